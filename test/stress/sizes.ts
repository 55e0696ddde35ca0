// Sizes of the stress and fault tests, in one place.
//
// By default (`npm test`) every stress file runs a SHORT version that still
// goes through each code path; all of them together take about a minute on a
// 2-core machine. With RINGPORT_STRESS=long (`npm run test:stress`) they run
// the full sizes of the reliability plan, which take many minutes.
//
// RINGPORT_STRESS_SEED=<uint32> replays the random choices (message kinds and
// sizes, hop plans) of a failed run: every test prints the seed it used when it
// fails.

export const LONG = process.env.RINGPORT_STRESS === 'long';

function pick<T>(short: T, long: T): T {
  return LONG ? long : short;
}

export const sizes = {
  /** Per-test jest timeout (ms). Hangs are caught earlier by each test's stall watchdog. */
  timeout: pick(120_000, 60 * 60_000),
  /** A test fails with a state dump when it makes no progress for this long (ms). */
  stallMs: pick(15_000, 120_000),

  integrity: {
    workers: 4,
    /** Messages each worker streams to the main thread (each is echoed back). */
    messages: pick(40_000, 1_000_000),
    /** Messages a worker may have in flight before it waits for their echoes. */
    window: 1_000,
    /** Largest message (bytes of payload). */
    maxBytes: 256 * 1024,
  },

  transfer: {
    /** Times the port changes owner. */
    hops: pick(150, 1_000),
    /** At most this many messages are read by each owner before it passes the port on. */
    maxQuota: 40,
    /** Messages the producer may have in flight (unread) at any time. */
    window: 2_000,
    /** About one hop in this many (from the main thread) goes to a freshly started worker, in workerData. */
    freshEvery: pick(25, 40),
  },

  death: {
    /** Workers terminate()d mid-stream. */
    terminations: pick(60, 200),
    /** Workers that throw an uncaught error mid-stream (or call process.exit). */
    throws: pick(30, 60),
    /** Warm-up iterations before the baseline memory sample. */
    warmup: pick(8, 20),
  },

  churn: {
    /** Channels created, used once and closed. */
    closed: pick(100_000, 1_000_000),
    /**
     * Channels created and dropped without close. Neither Node nor ringport
     * collects an unclosed port (it stays until the thread ends): each costs
     * about 7 KiB for good, so the long run stops at 200,000 (~1.4 GiB).
     */
    dropped: pick(50_000, 200_000),
  },

  faults: {
    /** Messages streamed to listeners that throw now and then. */
    stream: pick(20_000, 2_000_000),
    /** Messages a listener posts to its own port, and round trips of a ping-pong. */
    pingPong: pick(30_000, 2_000_000),
    /** Channels whose port is closed inside its own listener, at a random message. */
    closeInListener: pick(200, 10_000),
  },
};

/** The seed of this run: RINGPORT_STRESS_SEED, or a fresh random one. */
export function runSeed(): number {
  const fromEnv = process.env.RINGPORT_STRESS_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`RINGPORT_STRESS_SEED must be a uint32, not ${fromEnv}`);
    return n;
  }
  return (Math.random() * 0x100000000) >>> 0;
}
