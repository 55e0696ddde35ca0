// Differential conformance: scenarios/10-transfer.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('10-transfer');
