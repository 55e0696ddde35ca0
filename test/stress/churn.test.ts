// Stress 4 — channel churn. Many channels are created, carry one message
// (read with receiveMessageOnPort, or every 64th through a 'message'
// listener) and are closed; in another run, channels are used and just
// dropped. Both run in a child process with --expose-gc
// (fixtures/churn-child.js), which measures RSS and the active resources
// before and after, and must then exit on its own.
import * as path from 'node:path';
import { sizes } from './sizes';
import { MiB, STRESS_FIXTURES, describeChild, mib, runChild, type ChildResult } from './util';

interface Sample {
  rss: number;
  heap: number;
  resources: string[];
}
interface ChurnReport {
  mode: string;
  count: number;
  /** RSS per live channel, measured in the same process on 20,000 held channels. */
  perChannel: number;
  errors: string[];
  stats: { watched: number; closeEvents: number };
  before: Sample;
  after: Sample;
  peak: number;
}

async function churn(mode: 'closed' | 'dropped', count: number): Promise<ChurnReport> {
  const result: ChildResult<ChurnReport> = await runChild(
    path.join(STRESS_FIXTURES, 'churn-child.js'),
    [mode, String(count)],
    ['--expose-gc'],
    sizes.timeout - 5000,
  );
  // Exits on its own (code 0, not killed): no channel is left holding the event loop.
  if (result.code !== 0 || result.timedOut || result.report === undefined) throw new Error(describeChild(result));
  const r = result.report;
  console.log(
    `churn/${mode}: ${r.count} channels; a live channel costs ${(r.perChannel / 1024).toFixed(1)} KiB; ` +
      `RSS ${mib(r.before.rss)} before, ${mib(r.after.rss)} after (peak ${mib(r.peak)}); heap ${mib(r.before.heap)} -> ${mib(r.after.heap)}`,
  );
  return r;
}

test(
  `${sizes.churn.closed} channels created, used once and closed: every message and 'close' arrives, memory and resources come back`,
  async () => {
    const r = await churn('closed', sizes.churn.closed);
    expect(r.errors).toEqual([]);
    // Every watched port (every 97th) got its 'close'.
    expect(r.stats.watched).toBe(Math.ceil(sizes.churn.closed / 97));
    expect(r.stats.closeEvents).toBe(r.stats.watched);
    expect(r.after.resources).toEqual(r.before.resources);
    // A live channel costs several KiB (perChannel): leaking even a tenth of
    // the channels would add over 64 MiB in the short run (100,000 channels),
    // and 1% of them in the long one. Heap and allocator noise stays well
    // below that.
    expect(r.perChannel * r.count * 0.1).toBeGreaterThan(64 * MiB);
    expect(r.after.rss - r.before.rss).toBeLessThan(64 * MiB);
    expect(r.after.heap - r.before.heap).toBeLessThan(16 * MiB);
  },
  sizes.timeout,
);

test(
  `${sizes.churn.dropped} channels used and dropped without close: each holds no more than a live channel, and none keeps the process alive`,
  async () => {
    const r = await churn('dropped', sizes.churn.dropped);
    expect(r.errors).toEqual([]);
    expect(r.after.resources).toEqual(r.before.resources);
    // Like Node's, an unclosed port is not garbage-collected (the same run on
    // node:worker_threads keeps ~3.7 KiB per dropped channel, ringport
    // ~7 KiB). What is checked: a dropped channel keeps no more than the
    // same channel held live (its ring, its handle), i.e. dropping leaks
    // nothing on top, and (churn() above) the dropped ports do not keep the
    // event loop alive.
    const perDropped = (r.after.rss - r.before.rss) / r.count;
    expect(perDropped).toBeLessThan(1.25 * r.perChannel);
    console.log(`churn/dropped: ${(perDropped / 1024).toFixed(1)} KiB kept per dropped channel`);
  },
  sizes.timeout,
);
