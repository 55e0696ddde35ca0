'use strict';
// The worker side of the worker-API rows: everything, control included,
// goes through the Worker's own channel (worker.postMessage / parentPort),
// which is what those rows measure. workerData: { lib, mode }.
//   stream  counts messages until the `null` sentinel, then posts the count
//   echo    posts every message straight back
// { cmd: 'gc', seq } collects garbage and answers { type: 'ok', seq }.
const wt = require('node:worker_threads');
const { LIB } = require('../impls');

const { lib, mode } = wt.workerData;
const { parentPort } = lib === 'node' ? wt : require(LIB);

let count = 0;
parentPort.on('message', (m) => {
  if (m !== null && typeof m === 'object' && m.cmd === 'gc') {
    global.gc();
    parentPort.postMessage({ type: 'ok', seq: m.seq });
  } else if (mode === 'echo') {
    parentPort.postMessage(m);
  } else if (m === null) {
    parentPort.postMessage({ type: 'done', count });
    count = 0;
  } else {
    count++;
  }
});
parentPort.postMessage({ type: 'ready' });
