'use strict';
// The two measurements between the main thread and one worker, used by the
// stream, round-trip and idle-channel cases. Each setup returns
// { run(n) -> seconds, thread, close() }.
const { startWorker, now, secondsSince, turn } = require('./harness');
const { loadVariant } = require('./impls');
const { payload } = require('./payloads');

/** Posts `count` messages from `valueAt(i)` in chunks, a turn of the event loop between chunks. */
async function postChunked(port, count, chunk, valueAt, transfer) {
  for (let i = 0; i < count; ) {
    const end = Math.min(count, i + chunk);
    if (transfer) {
      for (; i < end; i++) {
        const value = valueAt(i);
        port.postMessage(value, [value]);
      }
    } else {
      for (; i < end; i++) port.postMessage(valueAt(i));
    }
    if (i < count) await turn();
  }
}

/**
 * One-way stream main -> worker. The clock runs from the first post until
 * the worker's count for the sentinel arrives; a count other than n fails.
 * Fresh transferred buffers are allocated before the clock starts, `burst`
 * at a time, and only the time of the bursts in flight is added up.
 */
async function setupStream(variantName, kind, listener = 'on') {
  const variant = loadVariant(variantName);
  const spec = payload(kind);
  const { port1, port2 } = variant.newChannel();
  const thread = await startWorker(variantName, [{ port: port2, role: 'sink', listener }]);
  const shared = spec.fresh ? null : spec.value();

  async function burst(n, values) {
    const done = thread.nextDone();
    const start = now();
    if (values) await postChunked(port1, n, spec.chunk, (i) => values[i], true);
    else await postChunked(port1, n, spec.chunk, () => shared, false);
    port1.postMessage(null);
    const count = await done;
    const took = secondsSince(start);
    if (count !== n) throw new Error(`${variantName}: the worker received ${count} of ${n} messages (${kind})`);
    return took;
  }

  async function run(n) {
    if (!spec.fresh) return burst(n, null);
    let took = 0;
    for (let left = n; left > 0; ) {
      const size = Math.min(left, spec.burst);
      const values = Array.from({ length: size }, spec.fresh);
      took += await burst(size, values);
      left -= size;
    }
    return took;
  }

  return {
    run,
    thread,
    spec,
    async close() {
      port1.close();
      await thread.terminate();
    },
  };
}

/** Round trip main <-> worker, one small integer in flight; checks each reply is the one sent. */
async function setupRoundTrip(variantName) {
  const variant = loadVariant(variantName);
  const { port1, port2 } = variant.newChannel();
  const thread = await startWorker(variantName, [{ port: port2, role: 'echo' }]);
  let onReply = null;
  port1.on('message', (value) => onReply(value));

  function run(n) {
    return new Promise((resolve, reject) => {
      let i = 0;
      const start = now();
      onReply = (value) => {
        if (value !== i) {
          reject(new Error(`${variantName}: round trip ${i} came back as ${value}`));
          return;
        }
        if (++i === n) resolve(secondsSince(start));
        else port1.postMessage(i);
      };
      port1.postMessage(0);
    });
  }

  return {
    run,
    thread,
    async close() {
      port1.close();
      await thread.terminate();
    },
  };
}

module.exports = { setupStream, setupRoundTrip, postChunked };
