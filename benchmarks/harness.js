'use strict';
// Main-thread helpers shared by the cases: starting a worker with ports,
// warm-up + calibration, and the alternating rounds.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { setImmediate: turn } = require('node:timers/promises');
const { loadVariant } = require('./impls');

const WORKER = path.join(__dirname, 'worker.js');

function now() {
  return process.hrtime.bigint();
}

function secondsSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Starts benchmarks/worker.js with `ports` ([{ port, role, listener?, keep? }]) of
 * `variantName` handed over. Resolves once the worker attached them.
 */
async function startWorker(variantName, ports) {
  const variant = loadVariant(variantName);
  const transferList = [];
  const specs = ports.map(({ port, role, listener, keep }) => {
    const { value, transfer } = variant.handOff(port);
    transferList.push(...transfer);
    return { role, listener, keep, handle: value };
  });
  const worker = new Worker(WORKER, { workerData: { variant: variantName, ports: specs }, transferList });

  let seq = 0;
  const pending = new Map(); // seq -> resolve
  const waiters = new Map(); // "type:index" -> resolve
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  worker.on('message', (msg) => {
    if (msg.type === 'ready') {
      ready();
    } else if (msg.type === 'ok') {
      pending.get(msg.seq)(msg);
      pending.delete(msg.seq);
    } else if (msg.type === 'done' || msg.type === 'returned') {
      const key = `${msg.type}:${msg.index}`;
      const resolve = waiters.get(key);
      if (resolve === undefined) fail(new Error(`${variantName}: unexpected '${msg.type}' from the worker`));
      waiters.delete(key);
      resolve(msg.type === 'done' ? msg.count : msg.buffers);
    }
  });
  // A failing worker fails the whole case, loudly.
  worker.on('error', (error) => fail(new Error(`${variantName} worker failed: ${error.stack || error}`)));
  worker.on('exit', (code) => fail(new Error(`${variantName} worker exited early with code ${code}`)));
  await readyPromise;

  return {
    worker,
    /** Sends a command and resolves with the worker's reply. */
    request(cmd) {
      const id = ++seq;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        worker.postMessage({ ...cmd, seq: id });
      });
    },
    /** Sends a command that gets no reply. */
    send(cmd) {
      worker.postMessage(cmd);
    },
    /**
     * Resolves with what the sink behind port `index` reports at the next
     * sentinel: 'done' -> the count, 'returned' -> the buffers it kept.
     */
    next(type, index = 0) {
      return new Promise((resolve) => waiters.set(`${type}:${index}`, resolve));
    },
  };
}

function fail(error) {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
}

/** Collects garbage on this thread and in every worker, so no variant pays for another's garbage. */
async function gcAll(workers) {
  global.gc();
  await Promise.all(workers.map((w) => w.request({ cmd: 'gc' })));
  await turn();
}

/**
 * Warm-up, then calibration: `run(n)` does n operations and resolves with the
 * seconds they took. Every variant gets the same `warmup` count; then n grows
 * until a run takes long enough to estimate the n that takes `seconds`.
 */
async function calibrate(run, { warmup, seconds, start = 1000, min = 1 }) {
  if (warmup > 0) await run(warmup);
  let n = start;
  const enough = Math.min(0.05, seconds / 3);
  for (;;) {
    const took = await run(n);
    if (took >= enough) return Math.max(min, Math.round((n * seconds) / took));
    n = took > 0.001 ? Math.ceil((n * enough * 1.5) / took) : n * 16;
  }
}

/**
 * Measures every variant once per round. The order is reversed every other
 * round (A B, B A, A B, ...), so that drift of this shared machine during a
 * round hits every variant alike. Resolves with { variant: [samples] }.
 */
async function alternate(variants, rounds, measureOne) {
  const samples = Object.fromEntries(variants.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) samples[variant].push(await measureOne(variant, round));
  }
  return samples;
}

module.exports = { startWorker, gcAll, calibrate, alternate, now, secondsSince, turn, fail };
