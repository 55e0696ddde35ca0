'use strict';
// Synchronous call main -> worker -> main (µs per call): ringport's
// receiveMessageOnPort(port, { timeout }) against synckit and
// sync-message-port, each with a worker that doubles a small integer.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { alternate, calibrate } = require('../harness');
const { LIB } = require('../impls');

const LIMIT = 10_000; // ms: a lost reply fails the case instead of hanging it

function ringportCall(options) {
  const ringport = require(LIB);
  const { port1, port2 } = new ringport.MessageChannel(options);
  new Worker(
    `const { attachPort, receiveMessageOnPort } = require(${JSON.stringify(LIB)});
     const port = attachPort(require('node:worker_threads').workerData.port);
     for (;;) {
       const got = receiveMessageOnPort(port, { timeout: Infinity });
       if (got === undefined) break;
       port.postMessage(got.message * 2);
     }`,
    { eval: true, workerData: { port: ringport.detachPort(port2) } },
  ).unref();
  return (x) => {
    port1.postMessage(x);
    const reply = ringport.receiveMessageOnPort(port1, { timeout: LIMIT });
    if (reply === undefined) throw new Error('ringport: no reply');
    return reply.message;
  };
}

function synckitCall() {
  const { createSyncFn } = require('synckit');
  return createSyncFn(path.join(__dirname, '..', 'workers', 'synckit-echo.js'), { timeout: LIMIT });
}

function syncMessagePortCall() {
  const { SyncMessagePort } = require('sync-message-port');
  const channel = SyncMessagePort.createChannel();
  const local = new SyncMessagePort(channel.port1);
  new Worker(
    `const { SyncMessagePort } = require(${JSON.stringify(require.resolve('sync-message-port'))});
     const remote = new SyncMessagePort(require('node:worker_threads').workerData.port);
     for (;;) remote.postMessage(remote.receiveMessage() * 2);`,
    { eval: true, workerData: { port: channel.port2 }, transferList: [channel.port2] },
  ).unref();
  return (x) => {
    local.postMessage(x);
    return local.receiveMessage({ timeout: LIMIT });
  };
}

const SETUP = {
  ringport: () => ringportCall(undefined),
  'ringport-spin': () => ringportCall({ spin: 50 }),
  synckit: synckitCall,
  'sync-message-port': syncMessagePortCall,
};

module.exports = async function sync({ variants }, { rounds, seconds }) {
  const calls = {};
  for (const v of variants) calls[v] = SETUP[v]();
  const runs = {};
  for (const v of variants) {
    const call = calls[v];
    runs[v] = async (n) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        const result = call(i);
        if (result !== i * 2) throw new Error(`${v}: call ${i} returned ${result}`);
      }
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
  }
  const n = {};
  for (const v of variants) n[v] = await calibrate(runs[v], { warmup: 2000, seconds, start: 200 });
  const samples = await alternate(variants, rounds, async (v) => ((await runs[v](n[v])) / n[v]) * 1e6);
  return { samples, meta: { n } };
};
