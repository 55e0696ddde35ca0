'use strict';
// BroadcastChannel fan-out: one sender on the main thread, `workers`
// receiving workers, each with a channel of the same name; msg/s delivered
// to every receiver (each message counted once, however many receive it).
// The clock runs from the first post until every worker has reported the
// `null` sentinel. Control goes through parentPort (Node's own, the same
// cost for both implementations).
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { alternate, calibrate, now, secondsSince, turn } = require('../harness');
const { payload } = require('../payloads');

const ROOT = path.join(__dirname, '..', '..');
const RECEIVER = path.join(__dirname, '..', 'workers', 'broadcast-receiver.js');

function implementation(variant) {
  return variant === 'node' ? require('node:worker_threads') : require(ROOT);
}

async function setup(variant, workers, kind, name) {
  const { BroadcastChannel } = implementation(variant);
  const threads = [];
  for (let i = 0; i < workers; i++) {
    const worker = new Worker(RECEIVER, { workerData: { variant, name, root: ROOT } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    threads.push(worker);
  }
  const sender = new BroadcastChannel(name);
  const spec = payload(kind);
  const value = spec.value();

  function run(n) {
    return new Promise((resolve, reject) => {
      let done = 0;
      const start = now();
      const onDone = (message) => {
        if (message.type !== 'done') return;
        if (message.count !== n) reject(new Error(`${variant}: a receiver got ${message.count} of ${n} messages`));
        else if (++done === workers) {
          for (const t of threads) t.off('message', onDone);
          resolve(secondsSince(start));
        }
      };
      for (const t of threads) t.on('message', onDone);
      let sent = 0;
      const step = () => {
        const end = Math.min(n, sent + spec.chunk);
        for (; sent < end; sent++) sender.postMessage(value);
        if (sent < n) setImmediate(step);
        else sender.postMessage(null);
      };
      step();
    });
  }
  return { run, threads };
}

/** Garbage collection here and in every receiver, so no variant pays for another's garbage. */
async function gcAll(threads) {
  global.gc();
  await Promise.all(
    threads.map(
      (t) =>
        new Promise((resolve) => {
          const onMessage = (message) => {
            if (message.type !== 'gc') return;
            t.off('message', onMessage);
            resolve();
          };
          t.on('message', onMessage);
          t.postMessage('gc');
        }),
    ),
  );
  await turn();
}

module.exports = async function broadcast({ workers = 4, payload: kind = 'object', variants }, { rounds, seconds }) {
  const setups = {};
  for (const v of variants) setups[v] = await setup(v, workers, kind, `bench-${v}`);
  const threads = Object.values(setups).flatMap((s) => s.threads);
  const n = {};
  // Five threads JIT-compile ringport's encoder and decoder: 10,000 warm-up
  // messages left them cold through short measurements on a loaded machine.
  // Both implementations get the same warm-up.
  for (const v of variants) n[v] = await calibrate(setups[v].run, { warmup: 100000, seconds, start: 2000 });
  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll(threads);
    return n[v] / (await setups[v].run(n[v]));
  });
  return { samples, meta: { n, workers } };
};
