// Differential conformance: scenarios/08-receive.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('08-receive');
