// JavaScript stress workload for scripts/asan-node: drives the ringport addon
// hard from the main thread and several workers, so that AddressSanitizer,
// UBSan and LeakSanitizer (at exit) see every native path: channels created,
// closed, dropped and garbage-collected; message streams of varied sizes (ring
// segments grow and shrink); ports moved between threads in transfer lists and
// through detachPort/attachPort; workers terminated or exiting mid-stream;
// ports closed while the peer posts; ports left in flight to a dying thread;
// BroadcastChannel members in several threads, a stream awaiting 'drain', and
// values beside the ring sent to a parked port.
//
//   RINGPORT_PKG=<package dir> node --expose-gc scripts/asan-workload.js
//
// RINGPORT_PKG is the package whose dist/ (and so build/Release) is loaded;
// default: this repository. ASAN_WORKLOAD_SCALE (default 1) scales the counts;
// ASAN_WORKLOAD_PHASES=churn,streams,... runs only those phases;
// ASAN_WORKLOAD_REQUIRE_ASAN=1 fails unless the ASan runtime and the addon
// of RINGPORT_PKG are the ones loaded.
// The main thread exits naturally (never process.exit) so that Node tears the
// environment down and LeakSanitizer sees what ringport really leaves behind.
// Prints one line "asan-workload: {...}" with the figures; exit code 1 if a
// check failed, 3 on a hang.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

const pkg = path.resolve(process.env.RINGPORT_PKG || path.join(__dirname, '..'));
const counts = instrument();
const ringport = require(pkg);
const { MessageChannel, receiveMessageOnPort, detachPort, attachPort } = ringport;
const SCALE = Math.max(0.05, Number(process.env.ASAN_WORKLOAD_SCALE || 1));
const n = (count) => Math.max(1, Math.round(count * SCALE));

// Counts, per thread, what the addon is asked to do: segments the producer
// grows to or shrinks back to, segments the consumer moves on from, trim
// requests. Each native port handle gets own-property wrappers (the class
// methods are not writable); the library calls them as handle.method(...).
function instrument() {
  const c = { posted: 0, received: 0, grown: 0, shrunk: 0, advanced: 0, trims: 0, handles: 0 };
  const { native, layout } = require(path.join(pkg, 'dist', 'binding.js'));
  const wrap = (h) => {
    if (h === null || typeof h !== 'object') return h;
    c.handles++;
    const { switchOutgoing, advanceIncoming, requestTrim } = h;
    Object.defineProperties(h, {
      switchOutgoing: {
        value(view, capacity) {
          if (capacity > view.byteLength - layout.segmentHeaderBytes) c.grown++;
          else c.shrunk++;
          return switchOutgoing.call(this, view, capacity);
        },
      },
      advanceIncoming: {
        value(view) {
          c.advanced++;
          return advanceIncoming.call(this, view);
        },
      },
      requestTrim: {
        value() {
          c.trims++;
          return requestTrim.call(this);
        },
      },
    });
    return h;
  };
  const { createChannel, attach } = native;
  native.createChannel = function (capacity) {
    const pair = createChannel.call(this, capacity);
    pair.forEach(wrap);
    return pair;
  };
  native.attach = function (token) {
    return wrap(attach.call(this, token));
  };
  return c;
}

function post(port, value, transfer) {
  counts.posted++;
  port.postMessage(value, transfer);
}

// ---- payloads ----------------------------------------------------------------

// Deterministic pseudo-random numbers (xorshift32), so a failure reproduces.
function rng(seed) {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

// Message number `seq` of a stream: mostly small, some medium, some buffers,
// now and then a large one (ring growth; the quiet after a burst shrinks).
function payload(seq, rand) {
  const r = rand();
  if (r < 0.45) return seq;
  if (r < 0.6) return 'm' + seq + '-'.repeat((rand() * 64) | 0);
  if (r < 0.75) return { seq, s: 'x'.repeat((rand() * 2000) | 0), a: [seq, seq + 1, { nested: [seq] }], m: new Map([[seq, 'v']]) };
  if (r < 0.97) return bytes(seq, 1 + ((rand() * 64 * 1024) | 0));
  return bytes(seq, 128 * 1024 + ((rand() * 1024 * 1024) | 0));
}

function bytes(seq, size) {
  const u8 = new Uint8Array(size);
  u8.fill(seq & 255);
  u8[0] = 1;
  u8[size - 1] = 2;
  return u8.buffer;
}

// A digest that survives the trip: type, length, and a few bytes.
function digest(value) {
  if (value instanceof ArrayBuffer) {
    const u8 = new Uint8Array(value);
    return `ab:${u8.length}:${u8[0]}:${u8[u8.length >> 1]}:${u8[u8.length - 1]}`;
  }
  if (value && typeof value === 'object') {
    return `o:${value.seq}:${value.s.length}:${value.a[2].nested[0]}:${value.m.get(value.seq)}`;
  }
  return `${typeof value}:${value}`;
}

function sizeOf(value) {
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (typeof value === 'string') return value.length;
  if (value && typeof value.s === 'string') return value.s.length + 64;
  return 16;
}

// ---- worker side ----------------------------------------------------------------

function workerMain() {
  const { role } = workerData;
  const port = attachPort(workerData.port);
  const rand = rng(workerData.seed || 7);
  // The port is attached: from now on a terminate() closes it. (Terminated
  // before this point, the handle is lost and the port stays parked.)
  parentPort.postMessage('ready');
  // What this thread did, for the summary (terminated workers cannot say).
  const report = () => parentPort.postMessage({ counts });
  port.on('close', report);

  if (role === 'echo') {
    // Echoes every message back (transferring buffers back); 'burst' asks
    // for a burst of its own; 'end' closes the port.
    port.on('message', (m) => {
      counts.received++;
      if (m === 'end') return port.close();
      if (m && m.burst) {
        for (let i = 0; i < m.burst; i++) post(port, { b: i, v: payload(i, rand) });
        return post(port, 'burst-done');
      }
      post(port, m, m && m.v instanceof ArrayBuffer ? [m.v] : []);
    });
  } else if (role === 'spammer') {
    // Posts bursts until its port closes (the peer closed) or the worker is
    // terminated; with exitAfter, calls process.exit() mid-stream.
    let seq = 0;
    let open = true;
    port.on('close', () => (open = false));
    port.on('message', () => counts.received++);
    const burst = () => {
      if (!open) return;
      for (let i = 0; i < 200; i++) post(port, payload(seq++, rand));
      if (workerData.exitAfter && seq >= workerData.exitAfter) {
        report();
        process.exit(0);
      }
      setImmediate(burst);
    };
    burst();
  } else if (role === 'sink') {
    // Takes what arrives (closing ports that come along); closes its own
    // port after closeAfter messages.
    port.on('message', (m) => {
      if (m && m.port) m.port.close();
      if (++counts.received === workerData.closeAfter) port.close();
    });
  } else if (role === 'idle') {
    // Never reads: whatever is sent to it stays in flight (ports included).
    port.ref();
    setInterval(() => {}, 1000);
  } else if (role === 'broadcaster') {
    // Listens on BroadcastChannel 'asan' and posts its own messages to it
    // until the port closes (or the worker is terminated).
    const bc = new ringport.BroadcastChannel('asan');
    let seq = 0;
    bc.onmessage = () => {
      counts.received++;
      if (++seq % 50 === 0) bc.postMessage({ from: workerData.seed, seq, v: payload(seq, rand) });
    };
    port.on('message', () => {});
    port.on('close', () => bc.close());
  } else if (role === 'foreignSink') {
    // Reads values that travel beside the ring (SharedArrayBuffers, large
    // transferred buffers), checks them, and answers 'done' at the end.
    port.on('message', (m) => {
      counts.received++;
      if (m === 'end') return post(port, 'done');
      if (m.sab) Atomics.add(new Int32Array(m.sab), 0, 1);
      if (m.big && m.big.byteLength !== m.size) post(port, { error: `big ${m.big.byteLength} != ${m.size}` });
    });
  } else if (role === 'relayA') {
    // Gets ports from the main thread and forwards them to worker B.
    const toB = attachPort(workerData.ab);
    port.on('message', (m) => {
      counts.received++;
      if (m === 'end') {
        toB.close();
        return port.close();
      }
      post(toB, { r: m.r, port: m.port }, [m.port]);
    });
  } else if (role === 'relayB') {
    // Uses each port it gets from worker A for a ping-pong with the main
    // thread, then detaches it and hands the main thread the handle.
    const fromA = attachPort(workerData.ab);
    fromA.on('message', (m) => {
      counts.received++;
      const p = m.port;
      p.once('message', (pong) => {
        counts.received++;
        if (pong !== `pong${m.r}`) post(port, { error: `bad pong ${pong}` });
        p.removeAllListeners('message');
        post(port, { r: m.r, handle: detachPort(p) });
      });
      post(p, `ping${m.r}`);
    });
    fromA.on('close', () => port.close());
  }
}

// ---- main side ------------------------------------------------------------------

const stats = {
  channels: 0,
  channelsClosed: 0,
  channelsDropped: 0,
  bytesPosted: 0,
  largestMessage: 0,
  portsTransferred: 0,
  portsDetached: 0,
  portsLeftInFlight: 0,
  workersStarted: 0,
  workersTerminated: 0,
  workersExitedMidStream: 0,
  workersTerminatedBeforeAttach: 0,
  closesWhilePosting: 0,
};
// Summed over the main thread and the workers that reported.
const totals = { posted: 0, received: 0, grown: 0, shrunk: 0, advanced: 0, trims: 0, handles: 0 };
const phases = {};
let phase = 'start';
let failures = 0;
const CLOSED = Symbol('closed');

function check(ok, what) {
  if (!ok) {
    failures++;
    if (failures <= 20) console.error(`asan-workload: CHECK FAILED [${phase}] ${what}`);
  }
}

function send(port, value, transfer) {
  const size = sizeOf(value && value.v !== undefined ? value.v : value);
  stats.bytesPosted += size;
  if (size > stats.largestMessage) stats.largestMessage = size;
  post(port, value, transfer);
}

// A queue over a port's messages: next() resolves with the next one, or
// CLOSED once the port has closed.
function inbox(port) {
  const queue = [];
  let head = 0;
  let waiter = null;
  let closed = false;
  port.on('message', (m) => {
    counts.received++;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(m);
    } else queue.push(m);
  });
  port.on('close', () => {
    closed = true;
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(CLOSED);
    }
  });
  return {
    next() {
      if (head < queue.length) {
        const m = queue[head++];
        if (head > 4096) queue.splice(0, head), (head = 0);
        return Promise.resolve(m);
      }
      if (closed) return Promise.resolve(CLOSED);
      return new Promise((resolve) => (waiter = resolve));
    },
  };
}

function whenClosed(port) {
  return new Promise((resolve) => port.once('close', resolve));
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve) => {
      timer = setTimeout(() => {
        check(false, `timed out: ${what}`);
        resolve(CLOSED);
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(role, port, extra = {}) {
  stats.workersStarted++;
  stats.portsDetached++;
  const worker = new Worker(__filename, {
    workerData: { role, port: detachPort(port), ...extra },
    env: { ...process.env, RINGPORT_PKG: pkg },
  });
  worker.exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.ready = new Promise((resolve) => worker.on('message', (m) => m === 'ready' && resolve()));
  worker.on('message', (m) => {
    if (m && m.counts) for (const key of Object.keys(totals)) totals[key] += m.counts[key];
  });
  worker.on('error', (e) => check(false, `worker ${role} error: ${e && e.stack}`));
  return worker;
}

// A: channel churn in one thread, with GC.
async function churn() {
  const count = n(3000);
  const parked = [];
  for (let i = 0; i < count; i++) {
    const { port1, port2 } = new MessageChannel(i % 3 === 0 ? { batch: true } : undefined);
    stats.channels++;
    const k = i % 6;
    for (let j = 0; j < k; j++) send(port1, j === 2 ? new ArrayBuffer(300 + i) : { i, j });
    switch (i % 6) {
      case 0: // read synchronously, close one side
        for (let j = 0; j < k; j++) check(receiveMessageOnPort(port2) !== undefined, 'receiveMessageOnPort');
        port1.close();
        stats.channelsClosed++;
        break;
      case 1: // start, read asynchronously, close both
        port2.on('message', () => counts.received++);
        port2.close();
        port1.close();
        stats.channelsClosed++;
        break;
      case 2: // dropped: never started, never closed (kept until teardown)
        stats.channelsDropped++;
        break;
      case 3: { // detach and re-attach in the same thread, then close
        const again = attachPort(detachPort(port2));
        stats.portsDetached++;
        for (let j = 0; j < k; j++) check(receiveMessageOnPort(again) !== undefined, 're-attached port lost a message');
        again.close();
        stats.channelsClosed++;
        break;
      }
      case 4: { // port2 travels in a message on another channel of this thread
        const carrier = new MessageChannel();
        stats.channels++;
        send(carrier.port1, { port: port2 }, [port2]);
        stats.portsTransferred++;
        if (i % 12 === 4) {
          const got = receiveMessageOnPort(carrier.port2);
          check(got && got.message.port, 'transferred port missing');
          got.message.port.close();
        } else {
          // Left unread: the carrier closes with the port in flight in it.
          stats.portsLeftInFlight++;
        }
        carrier.port1.close();
        carrier.port2.close();
        port1.close();
        stats.channelsClosed += 2;
        break;
      }
      case 5: // one side posts into a closing peer; some are then detached
        port2.close();
        post(port1, 'after close');
        if (i % 60 === 5) parked.push(detachPort(port1)); // never attached again
        stats.channelsClosed++;
        break;
    }
    if (i % 250 === 249) {
      await tick();
      global.gc();
    }
  }
  stats.portsDetached += parked.length;
  await tick();
  global.gc();
}

// B: streams of varied sizes to and from echo workers (growth and shrink).
async function streams() {
  const workers = 3;
  const perWorker = n(4000);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const { port1, port2 } = new MessageChannel(w === 1 ? { batch: true } : undefined);
      stats.channels++;
      const worker = startWorker('echo', port2, { seed: 100 + w });
      const box = inbox(port1);
      const rand = rng(1 + w);
      let seq = 0;
      while (seq < perWorker) {
        // A burst without yielding: the ring grows to hold it all.
        const burst = 50 + ((rand() * 1200) | 0);
        const sent = [];
        for (let i = 0; i < burst && seq < perWorker; i++, seq++) {
          const v = payload(seq, rand);
          sent.push(digest(v));
          send(port1, { seq, v }, v instanceof ArrayBuffer && seq % 2 ? [v] : []);
        }
        for (let i = 0; i < sent.length; i++) {
          const m = await withTimeout(box.next(), 30000, `echo ${w}`);
          if (m === CLOSED) return;
          check(digest(m.v) === sent[i], `echo ${w}: message ${m.seq} came back different`);
        }
        // Now and then the worker sends a burst of its own.
        if (rand() < 0.3) {
          const count = 100 + ((rand() * 1500) | 0);
          send(port1, { burst: count });
          for (let i = 0; i <= count; i++) {
            const m = await withTimeout(box.next(), 30000, `burst ${w}`);
            if (m === CLOSED) return;
            check(i < count ? m.b === i : m === 'burst-done', `burst ${w}: out of order`);
          }
        }
        // A quiet moment: the consumers ask for a trim, and producers that
        // posted nothing for 100 ms (lib/port.ts SHRINK_DELAY_MS) shrink.
        if (rand() < 0.35) await sleep(130);
      }
      send(port1, 'end');
      check((await withTimeout(box.next(), 30000, 'echo close')) === CLOSED, `echo ${w}: no close`);
      await worker.exited;
      stats.channelsClosed++;
    }),
  );
}

// C: ports moved main -> A -> B (transfer lists through ringport ports),
// ping-pong with the main thread, detached in B, attached again in main.
async function relays() {
  const rounds = n(300);
  const ab = new MessageChannel();
  const ctlA = new MessageChannel();
  const ctlB = new MessageChannel();
  stats.channels += 3;
  const a = startWorker('relayA', ctlA.port2, { ab: detachPort(ab.port1) });
  const b = startWorker('relayB', ctlB.port2, { ab: detachPort(ab.port2) });
  stats.portsDetached += 2;
  const fromB = inbox(ctlB.port1);
  for (let r = 0; r < rounds; r++) {
    const x = new MessageChannel(r % 2 ? { batch: true } : undefined);
    stats.channels++;
    const mine = inbox(x.port1);
    send(ctlA.port1, { r, port: x.port2 }, [x.port2]);
    stats.portsTransferred += 2;
    const ping = await withTimeout(mine.next(), 30000, `ping ${r}`);
    check(ping === `ping${r}`, `relay ${r}: got ${String(ping)}`);
    send(x.port1, `pong${r}`);
    const back = await withTimeout(fromB.next(), 30000, `handle ${r}`);
    if (back === CLOSED) break;
    check(!back.error && back.r === r, `relay ${r}: ${back.error || 'wrong round'}`);
    const other = attachPort(back.handle);
    stats.portsDetached++;
    send(other, 'loop');
    const loop = await withTimeout(mine.next(), 30000, `loop ${r}`);
    check(loop === 'loop', `relay ${r}: attached port does not reach its peer`);
    other.close();
    check((await withTimeout(mine.next(), 30000, `close ${r}`)) === CLOSED, `relay ${r}: no close`);
    stats.channelsClosed++;
  }
  send(ctlA.port1, 'end');
  await Promise.all([a.exited, b.exited]);
  ctlA.port1.close();
  ctlB.port1.close();
  stats.channelsClosed += 3;
}

// D: workers terminated or exiting mid-stream; ports in flight to a thread
// that dies before reading them; a worker terminated before it attached.
async function terminations() {
  const rounds = n(15);
  for (let t = 0; t < rounds; t++) {
    const variant = t % 5;
    const { port1, port2 } = new MessageChannel(t % 3 === 0 ? { batch: true } : undefined);
    stats.channels++;
    stats.channelsClosed++;
    if (variant === 0) {
      // The worker streams to us; we terminate it mid-stream.
      const worker = startWorker('spammer', port2, { seed: t });
      const box = inbox(port1);
      for (let i = 0; i < 1500 + t * 100; i++) if ((await withTimeout(box.next(), 30000, 'spammer')) === CLOSED) break;
      await worker.terminate();
      stats.workersTerminated++;
      while ((await withTimeout(box.next(), 30000, 'close after terminate')) !== CLOSED);
    } else if (variant === 1) {
      // We stream to the worker; it is terminated under our feet; we go on.
      const worker = startWorker('sink', port2, { closeAfter: -1 });
      const closed = whenClosed(port1);
      const rand = rng(t);
      let seq = 0;
      for (let burst = 0; burst < 20; burst++) {
        for (let i = 0; i < 300; i++) send(port1, payload(seq++, rand));
        if (burst === 10) {
          await worker.ready;
          worker.terminate();
          stats.workersTerminated++;
        }
        await tick();
      }
      await withTimeout(closed, 30000, 'close after terminate (sink)');
      await worker.exited;
    } else if (variant === 2) {
      // Ports in flight to a worker that never reads them, then dies. Half
      // are sent while its port is still parked (before it attached).
      const worker = startWorker('idle', port2);
      const closed = whenClosed(port1);
      const peers = [];
      for (let i = 0; i < 40; i++) {
        if (i === 20) await worker.ready;
        const c = new MessageChannel();
        stats.channels++;
        send(port1, { port: c.port2, i }, [c.port2]);
        stats.portsTransferred++;
        stats.portsLeftInFlight++;
        peers.push(whenClosed(c.port1));
        c.port1.on('message', () => {});
      }
      await sleep(5);
      await worker.terminate();
      stats.workersTerminated++;
      await withTimeout(Promise.all(peers), 30000, 'peers of ports lost in flight');
      await withTimeout(closed, 30000, 'close of idle worker port');
      stats.channelsClosed += 40;
    } else if (variant === 3) {
      // The worker calls process.exit() in the middle of its stream.
      const worker = startWorker('spammer', port2, { seed: t, exitAfter: 2000 + t * 50 });
      const box = inbox(port1);
      while ((await withTimeout(box.next(), 30000, 'close after process.exit')) !== CLOSED);
      await worker.exited;
      stats.workersExitedMidStream++;
    } else {
      // Terminated before it could attach its port: the handle is lost and
      // the port stays parked (port1 gets no 'close': a handle is plain data,
      // nobody knows it is gone); messages and a port wait in its ring.
      const worker = startWorker('sink', port2, { closeAfter: -1 });
      for (let i = 0; i < 100; i++) send(port1, { i, s: 'z'.repeat(i * 50) });
      const c = new MessageChannel();
      stats.channels++;
      send(port1, { port: c.port2 }, [c.port2]);
      stats.portsTransferred++;
      c.port1.close();
      await worker.terminate();
      stats.workersTerminated++;
      stats.workersTerminatedBeforeAttach++;
      port1.close();
      await whenClosed(port1);
    }
  }
}

// E: ports closed while the peer posts, both directions and in one thread.
async function closeWhilePosting() {
  const rounds = n(8);
  for (let t = 0; t < rounds; t++) {
    {
      // The worker posts; we close our end after a while.
      const { port1, port2 } = new MessageChannel();
      stats.channels++;
      const worker = startWorker('spammer', port2, { seed: 50 + t });
      let got = 0;
      await new Promise((resolve) => {
        port1.on('message', () => {
          counts.received++;
          if (++got === 500 + 137 * t) {
            port1.close();
            resolve();
          }
        });
      });
      stats.closesWhilePosting++;
      await withTimeout(worker.exited, 30000, 'spammer exit after close');
    }
    {
      // We post; the worker closes its end after closeAfter messages.
      const { port1, port2 } = new MessageChannel({ batch: t % 2 === 0 });
      stats.channels++;
      const worker = startWorker('sink', port2, { closeAfter: 700 + 91 * t });
      let closed = false;
      port1.on('close', () => (closed = true));
      const rand = rng(t + 9);
      let seq = 0;
      while (!closed) {
        for (let i = 0; i < 250; i++) send(port1, payload(seq++, rand));
        // Ports ride along too: the ones in flight when the sink leaves close.
        const c = new MessageChannel();
        stats.channels++;
        send(port1, { port: c.port2 }, [c.port2]);
        stats.portsTransferred++;
        c.port1.close();
        await tick();
      }
      stats.closesWhilePosting++;
      await worker.exited;
    }
    {
      // One thread: port1 posts in a loop while port2 closes mid-way.
      const { port1, port2 } = new MessageChannel();
      stats.channels++;
      let got = 0;
      port2.on('message', () => {
        counts.received++;
        if (++got === 300) port2.close();
      });
      for (let round = 0; round < 10; round++) {
        for (let i = 0; i < 100; i++) send(port1, { i, s: 'y'.repeat(i * 10) });
        await tick();
      }
      port1.close();
      stats.closesWhilePosting++;
    }
    stats.channelsClosed += 3;
  }
}

// F: what sits beside the port core: BroadcastChannel (members in several
// threads, one terminated while subscribed), backpressure (a stream awaiting
// 'drain', the reader terminated mid-stream), and values beside the ring
// sent while the reading port is parked, then read in a worker.
async function extras() {
  const rounds = n(2);
  for (let t = 0; t < rounds; t++) {
    {
      const bc = new ringport.BroadcastChannel('asan');
      let heard = 0;
      bc.onmessage = () => heard++;
      const members = [0, 1, 2].map((i) => {
        const { port1, port2 } = new MessageChannel();
        stats.channels++;
        return { port: port1, worker: startWorker('broadcaster', port2, { seed: 70 + i }) };
      });
      await Promise.all(members.map((m) => m.worker.ready));
      for (let i = 0; i < 3000; i++) {
        bc.postMessage({ i, v: payload(i, rng(i)) });
        if (i === 1500) await members[0].worker.terminate();
        if (i % 250 === 0) await tick();
      }
      await sleep(100);
      check(heard > 0, 'nothing heard on the BroadcastChannel');
      for (const m of members.slice(1)) m.port.close();
      await Promise.all(members.map((m) => withTimeout(m.worker.exited, 30000, 'broadcaster exit')));
      bc.close();
      stats.workersTerminated++;
      stats.channelsClosed += 3;
    }
    {
      const { port1, port2 } = new MessageChannel({ highWaterMark: 64 * 1024 });
      stats.channels++;
      const worker = startWorker('sink', port2, { closeAfter: -1 });
      await worker.ready;
      const chunk = 'z'.repeat(4096);
      for (let i = 0; i < 4000; i++) {
        send(port1, chunk);
        if (port1.needDrain) {
          if (i > 2000) {
            // Terminated while the writer waits for 'drain': the port closes instead.
            const closed = whenClosed(port1);
            await worker.terminate();
            await withTimeout(closed, 30000, 'close after terminate while awaiting drain');
            stats.workersTerminated++;
            break;
          }
          await withTimeout(new Promise((resolve) => port1.once('drain', resolve)), 30000, 'drain');
        }
      }
      stats.channelsClosed++;
    }
    {
      const { port1, port2 } = new MessageChannel();
      stats.channels++;
      const handle = detachPort(port2);
      const sab = new SharedArrayBuffer(4);
      for (let i = 0; i < 40; i++) {
        const big = new ArrayBuffer(65536 + i);
        port1.postMessage({ sab, big, size: 65536 + i }, [big]);
      }
      port1.postMessage('end');
      stats.portsDetached++;
      const worker = new Worker(__filename, {
        workerData: { role: 'foreignSink', port: handle },
        env: { ...process.env, RINGPORT_PKG: pkg },
      });
      stats.workersStarted++;
      const box = inbox(port1);
      let m;
      while ((m = await withTimeout(box.next(), 30000, 'foreign sink')) !== 'done' && m !== CLOSED) {
        check(!(m && m.error), `foreign sink: ${m && m.error}`);
      }
      check(Atomics.load(new Int32Array(sab), 0) === 40, `SharedArrayBuffer seen ${Atomics.load(new Int32Array(sab), 0)} times, not 40`);
      port1.close();
      await new Promise((resolve) => worker.once('exit', resolve));
      stats.channelsClosed++;
    }
  }
}

async function main() {
  // Say which addon this process runs, so that a run against the wrong
  // build cannot pass silently.
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const addon = /\s(\/\S*ringport\.node)$/m.exec(maps);
  const asan = /libclang_rt\.asan/.test(maps);
  console.log(`asan-workload: addon ${addon ? addon[1] : '(not found)'}; ASan runtime ${asan ? 'loaded' : 'NOT loaded'}`);
  if (process.env.ASAN_WORKLOAD_REQUIRE_ASAN === '1') {
    check(asan, 'the ASan runtime is not loaded');
    check(addon && addon[1] === path.join(pkg, 'build', 'Release', 'ringport.node'), 'not the build of RINGPORT_PKG');
  }
  if (typeof global.gc !== 'function') check(false, 'run node with --expose-gc');

  const watchdog = setTimeout(() => {
    console.error(`asan-workload: HANG in phase ${phase}: ${JSON.stringify(stats)}`);
    process.exit(3);
  }, Number(process.env.ASAN_WORKLOAD_TIMEOUT_MS || 240000));
  watchdog.unref();

  const only = (process.env.ASAN_WORKLOAD_PHASES || '').split(',').filter(Boolean);
  for (const [name, fn] of Object.entries({ churn, streams, relays, terminations, closeWhilePosting, extras })) {
    if (only.length > 0 && !only.includes(name)) continue;
    phase = name;
    const start = Date.now();
    await fn();
    phases[name] = Number(((Date.now() - start) / 1000).toFixed(1));
    global.gc();
  }
  phase = 'done';
  await sleep(50);
  global.gc();
  for (const key of Object.keys(totals)) totals[key] += counts[key];
  console.log(`asan-workload: ${JSON.stringify({ failures, ...stats, ...totals, phases })}`);
  if (failures > 0) process.exitCode = 1;
  // No process.exit(): the loop runs dry and Node frees the environment.
}

if (isMainThread) {
  main().catch((e) => {
    console.error(`asan-workload: [${phase}]`, e);
    process.exitCode = 1;
  });
} else {
  workerMain();
}
