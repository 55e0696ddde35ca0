'use strict';
// The two measurements between the main thread and a worker, used by the
// stream, round-trip and idle-channel cases. prepare*() makes the channel
// and says which port the worker gets (`workerPort`); once a worker holding
// it has started, bind(thread, index) returns { run(n) -> seconds, thread }.
// setup*() does both with a worker of its own. Nothing is closed: case.js
// ends the process right after the results are printed.
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
 * Transferred buffers come from a pool filled before the first run; the
 * worker hands them back after each burst, outside the timed region.
 */
function prepareStream(variantName, kind, listener = 'on') {
  const spec = payload(kind);
  const { port1, port2 } = loadVariant(variantName).newChannel();
  const workerPort = { port: port2, role: 'sink', listener, keep: Boolean(spec.transfer) };

  function bind(thread, index) {
    const shared = spec.transfer ? null : spec.value();
    let pool = spec.transfer ? Array.from({ length: spec.burst }, spec.transfer) : null;
    const bufferSize = pool ? pool[0].byteLength : 0;
    // Time until the last post of the last run: close to the whole time when
    // the producer, not the consumer, limits the rate.
    const stats = { postSeconds: 0 };

    async function burst(n) {
      const done = thread.next('done', index);
      const returned = pool ? thread.next('returned', index) : null;
      const start = now();
      if (pool) await postChunked(port1, n, spec.chunk, (i) => pool[i], true);
      else await postChunked(port1, n, spec.chunk, () => shared, false);
      stats.postSeconds += secondsSince(start);
      port1.postMessage(null);
      const count = await done;
      const took = secondsSince(start);
      if (count !== n) throw new Error(`${variantName}: the worker received ${count} of ${n} messages (${kind})`);
      if (pool) {
        const back = await returned;
        if (back.length !== n || back.some((b) => b.byteLength !== bufferSize)) {
          throw new Error(`${variantName}: transferred buffers came back missing or truncated`);
        }
        pool = back.concat(pool.slice(n));
      }
      return took;
    }

    async function run(n) {
      stats.postSeconds = 0;
      let took = 0;
      const size = spec.burst ?? n;
      for (let left = n; left > 0; left -= size) took += await burst(Math.min(left, size));
      return took;
    }

    return { run, thread, warmup: spec.warmup, stats };
  }

  return { workerPort, bind };
}

/** Round trip main <-> worker, one small integer in flight; checks each reply is the one sent. */
function prepareRoundTrip(variantName) {
  const { port1, port2 } = loadVariant(variantName).newChannel();
  const workerPort = { port: port2, role: 'echo' };

  function bind(thread) {
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

    return { run, thread, warmup: ROUND_TRIP_WARMUP };
  }

  return { workerPort, bind };
}

const ROUND_TRIP_WARMUP = 5000;

async function setupStream(variantName, kind, listener) {
  const prepared = prepareStream(variantName, kind, listener);
  return prepared.bind(await startWorker(variantName, [prepared.workerPort]), 0);
}

async function setupRoundTrip(variantName) {
  const prepared = prepareRoundTrip(variantName);
  return prepared.bind(await startWorker(variantName, [prepared.workerPort]), 0);
}

module.exports = { prepareStream, prepareRoundTrip, setupStream, setupRoundTrip, postChunked };
