// Differential conformance: scenarios/07-close.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('07-close');
