// Differential conformance: scenarios/01-surface.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('01-surface');
