'use strict';
// new MessageChannel() then close() of both ports, µs per channel. The event
// loop turns every CHUNK channels and once more at the end, so the closes
// (which both implementations finish in the close phase) are in the time.
const { alternate, calibrate, gcAll, now, secondsSince, turn } = require('../harness');
const { loadVariant } = require('../impls');

const CHUNK = 500;

function setupCreate(variantName) {
  const variant = loadVariant(variantName);

  async function run(n) {
    const start = now();
    for (let i = 0; i < n; ) {
      const end = Math.min(n, i + CHUNK);
      for (; i < end; i++) {
        const { port1, port2 } = variant.newChannel();
        port1.close();
        port2.close();
      }
      await turn();
    }
    await turn();
    return secondsSince(start);
  }

  return { run };
}

module.exports = async function create({ variants }, { rounds, seconds }) {
  const setups = Object.fromEntries(variants.map((v) => [v, setupCreate(v)]));
  const n = {};
  for (const v of variants) n[v] = await calibrate(setups[v].run, { warmup: 5000, seconds, start: 2000 });

  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll([]);
    return ((await setups[v].run(n[v])) / n[v]) * 1e6;
  });
  return { samples, meta: { n } };
};
