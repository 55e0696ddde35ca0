// Differential conformance: scenarios/13-html-vs-node.js, ringport vs node:worker_threads.
import { conformanceSuite } from './harness/suite';

conformanceSuite('13-html-vs-node');
