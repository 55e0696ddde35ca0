// Differential conformance: scenarios/09-ordering.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('09-ordering');
