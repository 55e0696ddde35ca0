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
    const { spec } = setups[v];
    n[v] = await calibrate(setups[v].run, { warmup: spec.warmup, seconds, start: Math.min(1000, spec.warmup) });
  }

  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll(threads);
    return n[v] / (await setups[v].run(n[v]));
  });

  for (const s of Object.values(setups)) await s.close();
  return { samples, meta: { n } };
};
