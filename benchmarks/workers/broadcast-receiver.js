'use strict';
// Receiver of the broadcast case: a BroadcastChannel of the given name, from
// Node or ringport, counting messages until the `null` sentinel.
const { parentPort, workerData } = require('node:worker_threads');

const { BroadcastChannel } = workerData.variant === 'node' ? require('node:worker_threads') : require(workerData.root);
const channel = new BroadcastChannel(workerData.name);
let count = 0;
channel.onmessage = (event) => {
  if (event.data === null) {
    parentPort.postMessage({ type: 'done', count });
    count = 0;
  } else {
    count++;
  }
};
parentPort.on('message', (message) => {
  if (message === 'gc') {
    global.gc();
    parentPort.postMessage({ type: 'gc' });
  }
});
parentPort.postMessage({ type: 'ready' });
