// Differential conformance: scenarios/05-events.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('05-events');
