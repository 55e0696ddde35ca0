'use strict';
// Memory per open channel: the growth of RSS, and of V8 heap + external
// memory, when `count` channels are opened (both ports listening, unref'd,
// as idle.js opens them), divided by `count`. Measured after gc in a fresh
// process that holds one variant only; run.js alternates the processes.
const { gcAll, turn } = require('../harness');
const { loadVariant } = require('../impls');
const idle = require('../idle');

async function settle() {
  for (let i = 0; i < 3; i++) {
    await gcAll([]);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

module.exports = async function memory({ variant: variantName, count = 10000 }) {
  const variant = loadVariant(variantName);
  // First use outside the measurement: lazy module and native set-up.
  const first = idle.open(variant, 10);
  await turn();
  await idle.close(first);
  await settle();
  const before = process.memoryUsage();

  const channels = idle.open(variant, count);
  await turn();
  await settle();
  const after = process.memoryUsage();
  if (channels.length !== count) throw new Error('channels went missing');

  const perChannel = (key) => (after[key] - before[key]) / count;
  return {
    samples: {
      [variantName]: [perChannel('rss')],
      [`${variantName}:heap`]: [perChannel('heapUsed') + perChannel('external')],
    },
    meta: { count, before, after },
  };
};
