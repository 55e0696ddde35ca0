// Stress 3 — worker death. A worker is terminate()d mid-stream many times
// (streams worker→main, main→worker, and both at once, over ringport
// channels, each with a 2 MiB message so that the rings have grown);
// and workers die on their own mid-stream: an uncaught error thrown in a
// ringport 'message' listener or in a timer, or process.exit(). The
// surviving side must get 'close' each time, the process must not crash, and
// memory and active resources must come back.
//
// The loops run in a child process started with --expose-gc (jest does not
// expose gc), fixtures/death-child.js, which prints a JSON report.
import * as path from 'node:path';
import { runSeed, sizes } from './sizes';
import { MiB, STRESS_FIXTURES, describeChild, mib, runChild, type ChildResult } from './util';

interface Sample {
  rss: number;
  resources: string[];
}
interface DeathReport {
  mode: string;
  iterations: number;
  closes: number;
  received: number;
  posted: number;
  errors: string[];
  before: Sample;
  after: Sample;
  afterBurst: Sample;
  burst: number;
  peak: number;
}

// The bound on resident memory growth. The same loop on node:worker_threads'
// channels (IMPL=node in death-child.js) grows by about 5 MiB over 200
// terminations (allocator and V8 caches of short-lived threads). Each
// iteration here sends a 2 MiB message on each stream it runs (4/3 streams
// per iteration on average), which grows that ring to an 8 MiB segment with
// 2 MiB written (unless the worker dies first): leaking the rings of dead
// workers would add over 2 MiB per iteration, over 120 MiB in the short run
// and 400 MiB in the long one. 64 MiB leaves room for heap and allocator noise
// and still catches that.
const LEAK_BOUND = 64 * MiB;
// ringport keeps freed segments of 64 KiB and more in a process-wide pool of
// up to 256 MiB (native/ring.h, SegmentPool), emptied when a live ring shrinks
// back after a burst or a channel ends. A dead worker's channel ends only when
// its peer closes: until then what its rings held may stay pooled. Right after the loop, the growth
// may therefore include up to that much.
const POOL_CAP = 256 * MiB;

// glibc would keep freed multi-MiB blocks in its heap for reuse once its
// mmap threshold has adapted to them; fixed at 128 KiB, blocks that large are
// mapped and unmapped, so RSS shows what is actually held, not what the
// allocator caches. (A leak shows either way.)
const CHILD_ENV = { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' };

describe.each([
  ['terminate()d by the main thread', 'terminate', sizes.death.terminations],
  ['dying of an uncaught error (listener, timer) or process.exit()', 'throw', sizes.death.throws],
])('workers %s mid-stream', (_, mode, iterations) => {
  const seed = runSeed();
  let result: ChildResult<DeathReport>;
  let report: DeathReport;

  beforeAll(async () => {
    result = await runChild<DeathReport>(
      path.join(STRESS_FIXTURES, 'death-child.js'),
      [mode, String(iterations), String(sizes.death.warmup), String(seed)],
      ['--expose-gc'],
      sizes.timeout - 5000,
      CHILD_ENV,
    );
    report = result.report as DeathReport;
    if (report !== undefined) {
      const d = (s: Sample) => (s.rss >= report.before.rss ? '+' : '') + mib(s.rss - report.before.rss);
      console.log(
        `death/${mode}: seed ${seed}, ${report.closes}/${iterations} closes, ${report.received} messages received and ` +
          `${report.posted} posted before the deaths; RSS ${mib(report.before.rss)} at the start, ${d(report.after)} after the loop, ` +
          `${d(report.afterBurst)} after one burst on a live channel (peak ${mib(report.peak)})`,
      );
    }
  }, sizes.timeout);

  test(`${iterations} times: the surviving port gets 'close' exactly once, messages before the death are in order, the process survives`, () => {
    if (result.code !== 0 || result.timedOut || report === undefined) throw new Error(`seed ${seed}: ${describeChild(result)}`);
    expect({ seed, errors: report.errors }).toEqual({ seed, errors: [] });
    expect(report.closes).toBe(iterations);
    expect(report.received).toBeGreaterThan(iterations);
  });

  test('no memory is leaked: after one burst on a live channel, RSS is within 64 MiB of where it started', () => {
    expect(report).toBeDefined();
    expect(report.burst).toBe(5);
    expect(report.afterBurst.rss - report.before.rss).toBeLessThan(LEAK_BOUND);
  });

  test("right after the loop, RSS is within 64 MiB plus the segment pool's cap of where it started", () => {
    expect(report).toBeDefined();
    expect(report.after.rss - report.before.rss).toBeLessThan(LEAK_BOUND + POOL_CAP);
  });

  test('active resources are back to what they were, and the child exits on its own', () => {
    expect(report).toBeDefined();
    expect(report.after.resources).toEqual(report.before.resources);
    expect(report.afterBurst.resources).toEqual(report.before.resources);
    if (result.code !== 0 || result.timedOut) throw new Error(describeChild(result));
  });
});
