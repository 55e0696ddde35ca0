'use strict';
// Fan-in: `workers` workers each stream small objects to the main thread
// over their own channel, all at once; msg/s of all of them together. The
// clock runs from the start commands until the last sentinel arrives.
const { alternate, calibrate, gcAll, now, secondsSince, startWorker } = require('../harness');
const { loadVariant } = require('../impls');

async function setupFanIn(variantName, workers, payload) {
  const variant = loadVariant(variantName);
  const sources = [];
  for (let w = 0; w < workers; w++) {
    const { port1, port2 } = variant.newChannel();
    sources.push({ port: port1, thread: await startWorker(variantName, [{ port: port2, role: 'source' }]) });
  }

  let onSentinel = null;
  const counts = new Array(workers).fill(0);
  sources.forEach(({ port }, index) => {
    port.on('message', (value) => {
      if (value === null) onSentinel(index);
      else counts[index]++;
    });
  });

  function run(total) {
    const each = Math.ceil(total / workers);
    return new Promise((resolve, reject) => {
      let finished = 0;
      counts.fill(0);
      const start = now();
      onSentinel = (index) => {
        if (counts[index] !== each) {
          reject(new Error(`${variantName}: received ${counts[index]} of ${each} messages from worker ${index}`));
        } else if (++finished === workers) {
          // Scaled from the each * workers messages actually sent to `total`.
          resolve(secondsSince(start) * (total / (each * workers)));
        }
      };
      for (const { thread } of sources) thread.send({ cmd: 'stream', payload, n: each });
    });
  }

  return {
    run,
    threads: sources.map((s) => s.thread),
  };
}

module.exports = async function fanin({ workers = 4, payload = 'object', variants }, { rounds, seconds }) {
  const setups = {};
  for (const v of variants) setups[v] = await setupFanIn(v, workers, payload);
  const threads = Object.values(setups).flatMap((s) => s.threads);

  const n = {};
  for (const v of variants) n[v] = await calibrate(setups[v].run, { warmup: 20000, seconds, start: 4000 });

  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll(threads);
    return n[v] / (await setups[v].run(n[v]));
  });

  return { samples, meta: { n, workers } };
};
