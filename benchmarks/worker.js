'use strict';
// The worker side of every two-thread case. workerData names the variant and
// the ports handed over, each with a role:
//   sink    counts messages until the `null` sentinel, then reports the count
//           (with `keep`, it then hands the received buffers back)
//   echo    posts every message straight back (round trip)
//   source  on a 'stream' command, posts n messages then the sentinel (fan-in)
// Control (gc, idle channels, stream start) goes through parentPort, which is
// Node's own channel for both implementations, so it costs both the same.
const { parentPort, workerData } = require('node:worker_threads');
const { loadVariant } = require('./impls');
const { payload } = require('./payloads');
const idle = require('./idle');

const variant = loadVariant(workerData.variant);

function reply(msg, extra) {
  parentPort.postMessage({ type: 'ok', seq: msg.seq, ...extra });
}

function sink(port, index, listener, keep) {
  let count = 0;
  let kept = [];
  const onValue = (value) => {
    if (value === null) {
      parentPort.postMessage({ type: 'done', index, count });
      count = 0;
      if (keep) {
        // After 'done', so the main thread has stopped the clock.
        parentPort.postMessage({ type: 'returned', index, buffers: kept }, kept);
        kept = [];
      }
    } else {
      count++;
      if (keep) kept.push(value);
    }
  };
  if (listener === 'addEventListener') {
    port.addEventListener('message', (event) => onValue(event.data));
    port.start();
  } else {
    port.on('message', onValue);
  }
}

function echo(port) {
  port.on('message', (value) => port.postMessage(value));
}

// Posts n messages in chunks, yielding to the event loop between chunks as a
// real producer would, then the sentinel.
function produce(port, kind, n) {
  const spec = payload(kind);
  const value = spec.value();
  let sent = 0;
  const step = () => {
    const end = Math.min(n, sent + spec.chunk);
    for (; sent < end; sent++) port.postMessage(value);
    if (sent < n) setImmediate(step);
    else port.postMessage(null);
  };
  step();
}

const ports = workerData.ports.map((spec, index) => {
  const port = variant.takeOver(spec.handle);
  if (spec.role === 'sink') sink(port, index, spec.listener, spec.keep);
  else if (spec.role === 'echo') echo(port);
  else if (spec.role !== 'source') throw new Error(`unknown role ${spec.role}`);
  return port;
});

let idleChannels = null;

parentPort.on('message', async (msg) => {
  switch (msg.cmd) {
    case 'gc':
      global.gc();
      reply(msg);
      break;
    case 'stream':
      produce(ports[msg.index ?? 0], msg.payload, msg.n);
      break;
    case 'idle-open':
      idleChannels = idle.open(loadVariant(msg.variant), msg.count);
      reply(msg);
      break;
    case 'idle-close':
      await idle.close(idleChannels);
      idleChannels = null;
      global.gc();
      reply(msg);
      break;
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
});

parentPort.postMessage({ type: 'ready' });
