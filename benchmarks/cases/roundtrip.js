'use strict';
// Round-trip latency main <-> worker, one message in flight, in µs.
const { alternate, calibrate, gcAll } = require('../harness');
const { setupRoundTrip } = require('../twothread');

module.exports = async function roundtrip({ variants }, { rounds, seconds }) {
  const setups = {};
  for (const v of variants) setups[v] = await setupRoundTrip(v);
  const threads = Object.values(setups).map((s) => s.thread);

  const n = {};
  for (const v of variants) n[v] = await calibrate(setups[v].run, { warmup: setups[v].warmup, seconds, start: 1000 });

  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll(threads);
    return ((await setups[v].run(n[v])) / n[v]) * 1e6;
  });

  return { samples, meta: { n } };
};
