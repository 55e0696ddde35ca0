// Differential conformance: scenarios/03-clone.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('03-clone');
