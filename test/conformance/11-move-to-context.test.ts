// Differential conformance: scenarios/11-move-to-context.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('11-move-to-context');
