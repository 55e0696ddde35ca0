// Differential conformance: scenarios/12-broadcast-channel.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('12-broadcast-channel');
