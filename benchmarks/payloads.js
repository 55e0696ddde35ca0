'use strict';
// The messages the stream rows send. `chunk` is how many are posted per turn
// of the producer's event loop (sized so a chunk is at most ~1 MiB of payload);
// `warmup` is the same number of messages for every implementation.
const SMALL_OBJECT = Object.freeze({ id: 12345, name: 'ringport', tags: ['fast', 'ring', 'port'], v: 1.5 });

// Written, so that every page is touched as in a buffer a program filled.
function filledBytes(size) {
  return new Uint8Array(size).fill(0xa5);
}

const PAYLOADS = {
  int: { label: 'small integer', value: () => 42, chunk: 1000, warmup: 20000 },
  str16: { label: '16-char string', value: () => 'abcdefghijklmnop', chunk: 1000, warmup: 20000 },
  object: { label: 'small object', value: () => ({ ...SMALL_OBJECT, tags: [...SMALL_OBJECT.tags] }), chunk: 1000, warmup: 20000 },
  u8_1k: { label: '1 KiB Uint8Array (copied)', value: () => filledBytes(1024), chunk: 500, warmup: 20000 },
  u8_64k: { label: '64 KiB Uint8Array (copied)', value: () => filledBytes(64 * 1024), chunk: 16, warmup: 2000 },
  // A 1 MiB ArrayBuffer moved with a transfer list, a different buffer in
  // every message of a burst. Allocating and filling a buffer costs far more
  // than Node's transfer, so it is kept out of the timed region: `burst`
  // buffers are allocated and filled once, and after each burst the worker
  // hands them back through Node's parentPort while the clock is stopped.
  ab_1m: { label: '1 MiB ArrayBuffer (transferred)', transfer: () => filledBytes(1024 * 1024).buffer, burst: 512, chunk: 8, warmup: 1024 },
};

function payload(kind) {
  const spec = PAYLOADS[kind];
  if (spec === undefined) throw new Error(`unknown payload ${JSON.stringify(kind)}`);
  return spec;
}

module.exports = { PAYLOADS, payload, SMALL_OBJECT };
