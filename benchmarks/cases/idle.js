'use strict';
// Scale with idle ports: the round trip or the stream again, with and
// without `count` idle open channels on each of the two threads (main and
// worker). A process holds one implementation only (run.js alternates the
// processes): Node's idle ports add libuv async handles to the loop, which
// would slow down anything else woken on that thread. Within the process the
// order of the two phases alternates with the round.
const { calibrate, gcAll } = require('../harness');
const { loadVariant, variantSpec } = require('../impls');
const idle = require('../idle');
const { setupRoundTrip, setupStream } = require('../twothread');

module.exports = async function idleCase({ measure, payload, variants, count = 10000 }, { seconds, round = 0 }) {
  const idleFirst = round % 2 === 1;
  const setups = {};
  for (const v of variants) {
    setups[v] = measure === 'roundtrip' ? await setupRoundTrip(v) : await setupStream(v, payload);
  }
  const threads = Object.values(setups).map((s) => s.thread);

  // Same warm-up as the round-trip and stream cases.
  const warmup = (v) => (measure === 'roundtrip' ? 5000 : setups[v].spec.warmup);
  const n = {};
  for (const v of variants) n[v] = await calibrate(setups[v].run, { warmup: warmup(v), seconds, start: 1000 });
  const figure = async (v, count) => {
    await gcAll(threads);
    const took = await setups[v].run(count);
    return measure === 'roundtrip' ? (took / count) * 1e6 : count / took;
  };

  // Idle channels are plain channels (default options) of this process's library.
  const idleVariant = loadVariant(variantSpec(variants[0]).lib);
  const samples = {};
  const phases = idleFirst ? [true, false] : [false, true];
  for (const [p, withIdle] of phases.entries()) {
    let mine = null;
    if (withIdle) {
      mine = idle.open(idleVariant, count);
      await Promise.all(threads.map((t) => t.request({ cmd: 'idle-open', variant: idleVariant.name, count })));
    }
    const order = p === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      // Idle ports may slow a variant by orders of magnitude (Node's round
      // trip): calibrate again, without warm-up, so a run still takes `seconds`.
      const count = withIdle
        ? await calibrate(setups[v].run, { warmup: 0, seconds, start: Math.max(50, Math.round(n[v] / 100)) })
        : n[v];
      samples[withIdle ? `${v}+idle` : v] = [await figure(v, count)];
    }
    if (withIdle) {
      await idle.close(mine);
      await Promise.all(threads.map((t) => t.request({ cmd: 'idle-close' })));
    }
  }

  for (const s of Object.values(setups)) await s.close();
  return { samples, meta: { n, count, idleFirst } };
};
