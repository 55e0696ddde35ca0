'use strict';
// One-way stream main -> worker of one payload, in msg/s, every variant in
// the same process with its own worker, alternated over the rounds.
const { alternate, calibrate, gcAll } = require('../harness');
const { setupStream } = require('../twothread');

module.exports = async function stream({ payload, listener = 'on', variants }, { rounds, seconds }) {
  const setups = {};
  for (const v of variants) setups[v] = await setupStream(v, payload, listener);
  const threads = Object.values(setups).map((s) => s.thread);

  const n = {};
  for (const v of variants) {
    const { run, warmup } = setups[v];
    n[v] = await calibrate(run, { warmup, seconds, start: Math.min(1000, warmup) });
  }

  // Share of each measurement spent posting (see twothread.js), for the JSON.
  const postShare = Object.fromEntries(variants.map((v) => [v, []]));
  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll(threads);
    const took = await setups[v].run(n[v]);
    postShare[v].push(setups[v].stats.postSeconds / took);
    return n[v] / took;
  });

  return { samples, meta: { n, postShare } };
};
