// Differential conformance: scenarios/02-post-validation.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('02-post-validation');
