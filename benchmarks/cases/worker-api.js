'use strict';
// node:worker_threads' Worker against ringport's Worker: the same program,
// only the Worker class (and the worker's parentPort) differs. mode 'stream':
// worker.postMessage of small objects to the worker, msg/s; mode 'roundtrip':
// worker.postMessage -> parentPort.postMessage -> 'message', µs per trip.
const path = require('node:path');
const wt = require('node:worker_threads');
const { alternate, calibrate, now, secondsSince, turn } = require('../harness');
const { LIB } = require('../impls');
const { payload } = require('../payloads');

const SCRIPT = path.join(__dirname, '..', 'workers', 'worker-api.js');

async function start(lib, mode) {
  const Worker = lib === 'node' ? wt.Worker : require(LIB).Worker;
  const worker = new Worker(SCRIPT, { workerData: { lib, mode } });
  worker.on('error', (error) => {
    process.stderr.write(`${lib} worker failed: ${error.stack || error}\n`);
    process.exit(1);
  });
  let onMessage = null;
  let seq = 0;
  const pending = new Map();
  worker.on('message', (m) => {
    if (m !== null && typeof m === 'object' && m.type === 'ok') {
      pending.get(m.seq)();
      pending.delete(m.seq);
    } else {
      onMessage(m);
    }
  });
  await new Promise((resolve) => (onMessage = resolve));
  return {
    worker,
    set onMessage(fn) {
      onMessage = fn;
    },
    request(cmd) {
      const id = ++seq;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        worker.postMessage({ ...cmd, seq: id });
      });
    },
  };
}

function streamRun(thread, lib) {
  const spec = payload('object');
  const value = spec.value();
  return async (n) => {
    const done = new Promise((resolve) => (thread.onMessage = resolve));
    const start = now();
    for (let i = 0; i < n; ) {
      const end = Math.min(n, i + spec.chunk);
      for (; i < end; i++) thread.worker.postMessage(value);
      if (i < n) await turn();
    }
    thread.worker.postMessage(null);
    const { count } = await done;
    const took = secondsSince(start);
    if (count !== n) throw new Error(`${lib}: the worker received ${count} of ${n} messages`);
    return took;
  };
}

function roundTripRun(thread, lib) {
  return (n) =>
    new Promise((resolve, reject) => {
      let i = 0;
      const start = now();
      thread.onMessage = (value) => {
        if (value !== i) reject(new Error(`${lib}: round trip ${i} came back as ${value}`));
        else if (++i === n) resolve(secondsSince(start));
        else thread.worker.postMessage(i);
      };
      thread.worker.postMessage(0);
    });
}

module.exports = async function workerApi({ mode, variants }, { rounds, seconds }) {
  const threads = {};
  const runs = {};
  for (const v of variants) {
    threads[v] = await start(v, mode === 'stream' ? 'stream' : 'echo');
    runs[v] = mode === 'stream' ? streamRun(threads[v], v) : roundTripRun(threads[v], v);
  }
  const gcAll = async () => {
    global.gc();
    await Promise.all(Object.values(threads).map((t) => t.request({ cmd: 'gc' })));
    await turn();
  };
  const warmup = mode === 'stream' ? payload('object').warmup : 5000;
  const n = {};
  for (const v of variants) n[v] = await calibrate(runs[v], { warmup, seconds, start: 1000 });
  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll();
    const took = await runs[v](n[v]);
    return mode === 'stream' ? n[v] / took : (took / n[v]) * 1e6;
  });
  return { samples, meta: { n } };
};
