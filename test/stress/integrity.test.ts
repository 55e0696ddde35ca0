// Stress 1 — integrity. Several workers each stream seeded random messages
// (numbers, bigints, one- and two-byte strings, Uint8Arrays, transferred
// buffers, Float64Arrays, object trees; 1 B to 256 KiB, so that rings grow
// and shrink all the time) to the main thread, which verifies each one and
// echoes it back; each worker verifies the echoes. Every message carries its
// sequence number and an FNV-1a checksum of its content, so a lost,
// duplicated, reordered or corrupted message is reported where it happens.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MessageChannel, detachPort, type MessagePort } from '../..';
import * as gen from './fixtures/gen';
import { LONG, runSeed, sizes } from './sizes';
import { STRESS_FIXTURES, stallWatch } from './util';

const { workers: WORKERS, messages: MESSAGES, window: WINDOW, maxBytes: MAX_BYTES } = sizes.integrity;

interface Report {
  sent: number;
  echoed: number;
  sentKinds: Record<string, number>;
  echoKinds: Record<string, number>;
  sentBytes: number;
  large: number;
  transferred: number;
  errorCount: number;
  errors: string[];
}

interface Stream {
  index: number;
  seed: number;
  port: MessagePort;
  worker: Worker;
  progress: Int32Array;
  received: number;
  receivedKinds: Record<string, number>;
  errorCount: number;
  errors: string[];
  report: Report | undefined;
  closed: boolean;
  afterReport: number;
}

function isReport(v: unknown): v is { report: Report } {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype && 'report' in v;
}

function startStream(index: number, runSeed: number): Stream {
  const { port1, port2 } = new MessageChannel();
  const seed = gen.mix(runSeed, index);
  const progress = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(path.join(STRESS_FIXTURES, 'integrity-worker.js'), {
    workerData: { port: detachPort(port2), seed, messages: MESSAGES, window: WINDOW, maxBytes: MAX_BYTES, progress: progress.buffer },
  });
  const s: Stream = {
    index,
    seed,
    port: port1,
    worker,
    progress,
    received: 0,
    receivedKinds: {},
    errorCount: 0,
    errors: [],
    report: undefined,
    closed: false,
    afterReport: 0,
  };
  port1.on('message', (v: unknown) => {
    if (s.report !== undefined) {
      s.afterReport++;
      return;
    }
    if (isReport(v)) {
      s.report = v.report;
      return;
    }
    const seq = s.received++;
    try {
      const kind = gen.checkMessage(v, seq);
      s.receivedKinds[kind] = (s.receivedKinds[kind] ?? 0) + 1;
    } catch (e) {
      s.errorCount++;
      if (s.errors.length < 10) s.errors.push((e as Error).message);
    }
    // Echo it; every other byte message goes back transferred.
    if (v instanceof Uint8Array && seq % 2 === 0) port1.postMessage(v, [v.buffer]);
    else port1.postMessage(v);
  });
  port1.on('close', () => (s.closed = true));
  return s;
}

function summary(s: Stream) {
  return {
    stream: s.index,
    seed: s.seed,
    received: s.received,
    errorCount: s.errorCount,
    errors: s.errors,
    workerSent: Atomics.load(s.progress, 0),
    workerEchoed: Atomics.load(s.progress, 1),
    workerErrors: Atomics.load(s.progress, 2),
    report: s.report && { ...s.report, sentKinds: undefined, echoKinds: undefined },
    closed: s.closed,
  };
}

test(
  `${WORKERS} workers × ${MESSAGES} random messages (1 B–${MAX_BYTES / 1024} KiB), echoed: nothing lost, duplicated, reordered or corrupted`,
  async () => {
    const seed = runSeed();
    const streams = Array.from({ length: WORKERS }, (_, i) => startStream(i, seed));
    const exits = streams.map(
      (s) =>
        new Promise<number>((resolve, reject) => {
          s.worker.once('error', reject);
          s.worker.once('exit', resolve);
        }),
    );
    const watch = stallWatch(
      `integrity (seed ${seed})`,
      () => streams.map((s) => [s.received, Atomics.load(s.progress, 1), s.closed]),
      () => streams.map(summary),
      sizes.stallMs,
    );
    let codes: number[];
    try {
      // A worker closes its port after its report; the main side then gets 'close'.
      await Promise.race([watch.stalled, Promise.all(streams.map((s) => new Promise((r) => s.port.once('close', r))))]);
      codes = await Promise.race([watch.stalled, Promise.all(exits)]);
    } finally {
      watch.stop();
    }

    const failed = streams.filter(
      (s) =>
        s.report === undefined ||
        s.errorCount !== 0 ||
        s.report.errorCount !== 0 ||
        s.received !== MESSAGES ||
        s.report.echoed !== MESSAGES ||
        s.afterReport !== 0,
    );
    if (failed.length > 0) console.error(`integrity failed; replay with RINGPORT_STRESS_SEED=${seed}`);
    // The seed is part of what is compared, so that a failure shows it.
    expect({ seed, failed: failed.map(summary) }).toEqual({ seed, failed: [] });

    for (const s of streams) {
      const report = s.report as Report;
      expect(report.sent).toBe(MESSAGES);
      // Both ends saw the same kinds of messages (every kind was exercised).
      expect(s.receivedKinds).toEqual(report.sentKinds);
      expect(report.echoKinds).toEqual(report.sentKinds);
      expect(Object.keys(report.sentKinds).sort()).toEqual(gen.KINDS.filter((k) => k !== 'xfer').sort());
      // Ring growth past 64 KiB records and Node's side channel for large transferred buffers were exercised.
      expect(report.large).toBeGreaterThan(0);
      expect(report.transferred).toBeGreaterThan(0);
    }
    expect(codes).toEqual(streams.map(() => 0));

    const total = streams.reduce((n, s) => n + s.received, 0);
    const bytes = streams.reduce((n, s) => n + (s.report as Report).sentBytes, 0);
    console.log(
      `integrity${LONG ? ' (long)' : ''}: seed ${seed}, ${total} messages verified each way, ` +
        `${(bytes / 2 ** 20).toFixed(0)} MiB of payload each way`,
    );
  },
  sizes.timeout,
);
