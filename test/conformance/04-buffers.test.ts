// Differential conformance: scenarios/04-buffers.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('04-buffers');
