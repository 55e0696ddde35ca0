'use strict';
// Scale with idle ports: the round trip and the small-object stream again,
// with and without `count` idle open channels on each of the two threads
// (main and worker). A process holds one library only, and run.js alternates
// the processes: Node's idle ports add libuv async handles to the loop,
// which would slow down anything else woken on that thread. Within the
// process the order of the two phases alternates with the round. One worker
// holds the ports of every measurement, so it opens its idle channels once.
const { calibrate, gcAll, startWorker } = require('../harness');
const { loadVariant } = require('../impls');
const idle = require('../idle');
const { prepareRoundTrip, prepareStream } = require('../twothread');

module.exports = async function idleCase({ lib, roundtrip = [], stream = [], payload = 'object', count = 10000 }, { seconds, round = 0 }) {
  const prepared = [
    ...roundtrip.map((v) => ({ key: `roundtrip:${v}`, rate: false, ...prepareRoundTrip(v) })),
    ...stream.map((v) => ({ key: `stream:${v}`, rate: true, ...prepareStream(v, payload) })),
  ];
  // The worker takes every port over with the library's own attach (the same for all its variants).
  const thread = await startWorker(lib, prepared.map((p) => p.workerPort));
  const measurements = prepared.map((p, index) => ({ ...p, ...p.bind(thread, index) }));

  for (const m of measurements) m.n = await calibrate(m.run, { warmup: m.warmup, seconds, start: 1000 });
  const figure = async (m, n) => {
    await gcAll([thread]);
    const took = await m.run(n);
    return m.rate ? n / took : (took / n) * 1e6;
  };

  // Idle channels are plain channels (default options) of this process's library.
  const idleVariant = loadVariant(lib);
  const samples = {};
  const phases = round % 2 === 1 ? [true, false] : [false, true];
  for (const [p, withIdle] of phases.entries()) {
    let mine = null;
    if (withIdle) {
      mine = idle.open(idleVariant, count);
      await thread.request({ cmd: 'idle-open', variant: lib, count });
    }
    const order = p === 0 ? measurements : [...measurements].reverse();
    for (const m of order) {
      // Idle ports may slow a variant down by orders of magnitude (Node's round
      // trip): calibrate again, without warm-up, so that a run still takes `seconds`.
      const n = withIdle ? await calibrate(m.run, { warmup: 0, seconds, start: Math.max(50, Math.round(m.n / 100)) }) : m.n;
      samples[withIdle ? `${m.key}+idle` : m.key] = [await figure(m, n)];
    }
    if (withIdle) {
      await idle.close(mine);
      await thread.request({ cmd: 'idle-close' });
    }
  }
  return { samples, meta: { n: Object.fromEntries(measurements.map((m) => [m.key, m.n])), count, idleFirst: phases[0] } };
};
