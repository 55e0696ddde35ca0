'use strict';
// Worker: posts with a transfer iterable that never ends; the parent terminates it.
const { parentPort } = require('node:worker_threads');
const impl = require('../../harness/impl');

const { port1 } = new impl.MessageChannel();
parentPort.postMessage('ready');
port1.postMessage({}, {
  transfer: (function* endless() {
    while (true); // eslint-disable-line no-constant-condition, no-empty
  })(),
});
// Must never run: termination stops the loop above.
parentPort.postMessage('UNREACHABLE');
process.kill(process.pid, 'SIGINT');
