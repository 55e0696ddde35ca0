'use strict';
// A stream main -> worker of 4 KiB strings that respects backpressure
// (awaits 'drain' whenever the writer says so), MiB/s until the worker has
// taken everything: ringport with new MessageChannel({ highWaterMark: 1 MiB })
// against thread-stream (pino's transport) with a 1 MiB SharedArrayBuffer.
const path = require('node:path');
const { once } = require('node:events');
const { Worker } = require('node:worker_threads');
const { alternate, calibrate } = require('../harness');
const { LIB } = require('../impls');

const MARK = 1 << 20;
const CHUNK = 'x'.repeat(4096);

function ringportStream() {
  const ringport = require(LIB);
  const { port1, port2 } = new ringport.MessageChannel({ highWaterMark: MARK });
  const worker = new Worker(
    `const { attachPort } = require(${JSON.stringify(LIB)});
     const port = attachPort(require('node:worker_threads').workerData.port);
     let chars = 0;
     port.on('message', (m) => {
       if (typeof m === 'number') port.postMessage(chars);
       else chars += m.length;
     });`,
    { eval: true, workerData: { port: ringport.detachPort(port2) } },
  );
  let sent = 0;
  const close = async () => {
    port1.close();
    await worker.terminate();
  };
  const run = async (n) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      port1.postMessage(CHUNK);
      if (port1.needDrain) await once(port1, 'drain');
    }
    sent += n * CHUNK.length;
    port1.postMessage(0); // everything before it has been taken when it is answered
    const [taken] = await once(port1, 'message');
    if (taken !== sent) throw new Error(`ringport: ${taken} of ${sent} chars arrived`);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  return { run, close };
}

function threadStream() {
  const ThreadStream = require('thread-stream');
  const stream = new ThreadStream({
    filename: path.join(__dirname, '..', 'workers', 'thread-stream-sink.js'),
    bufferSize: MARK,
  });
  const close = async () => {
    stream.end();
    await once(stream, 'close');
  };
  const run = async (n) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      if (!stream.write(CHUNK)) await once(stream, 'drain');
    }
    stream.flushSync(); // waits until the worker has read the whole buffer
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  return { run, close };
}

const SETUP = { ringport: ringportStream, 'thread-stream': threadStream };

module.exports = async function backpressure({ variants }, { rounds, seconds }) {
  const setups = {};
  for (const v of variants) setups[v] = SETUP[v]();
  const runs = Object.fromEntries(variants.map((v) => [v, setups[v].run]));
  const n = {};
  for (const v of variants) n[v] = await calibrate(runs[v], { warmup: 2000, seconds, start: 1000 });
  const mib = (v, took) => (n[v] * CHUNK.length) / took / (1 << 20);
  const samples = await alternate(variants, rounds, async (v) => mib(v, await runs[v](n[v])));
  for (const v of variants) await setups[v].close();
  return { samples, meta: { n, chunk: CHUNK.length, highWaterMark: MARK } };
};
