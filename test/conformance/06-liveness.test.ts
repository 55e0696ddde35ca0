// Differential conformance: scenarios/06-liveness.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('06-liveness');
