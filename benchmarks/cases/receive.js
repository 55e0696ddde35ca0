'use strict';
// Same thread: postMessage on port1, then receiveMessageOnPort(port2) takes
// it back synchronously (port2 is never started). ns per message, small object.
const { alternate, calibrate, gcAll, now, secondsSince, turn } = require('../harness');
const { loadVariant } = require('../impls');
const { payload } = require('../payloads');

const CHUNK = 10000;

function setupReceive(variantName) {
  const variant = loadVariant(variantName);
  const { port1, port2 } = variant.newChannel();
  const receive = variant.receiveMessageOnPort;
  const value = payload('object').value();

  async function run(n) {
    const start = now();
    for (let i = 0; i < n; ) {
      const end = Math.min(n, i + CHUNK);
      for (; i < end; i++) {
        port1.postMessage(value);
        const got = receive(port2);
        if (got === undefined || got.message.id !== value.id) {
          throw new Error(`${variantName}: receiveMessageOnPort returned ${JSON.stringify(got)} for message ${i}`);
        }
      }
      // Let the event loop turn, as a real program would between batches.
      await turn();
    }
    return secondsSince(start);
  }

  return { run };
}

module.exports = async function receive({ variants }, { rounds, seconds }) {
  const setups = Object.fromEntries(variants.map((v) => [v, setupReceive(v)]));
  const n = {};
  for (const v of variants) n[v] = await calibrate(setups[v].run, { warmup: 50000, seconds, start: 10000 });

  const samples = await alternate(variants, rounds, async (v) => {
    await gcAll([]);
    return ((await setups[v].run(n[v])) / n[v]) * 1e9;
  });

  return { samples, meta: { n } };
};
