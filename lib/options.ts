// Delivery options: the opt-in trades of exactness for speed (README,
// "Delivery modes"). Stored per side in the channel's control block, so that
// they travel with a port to another thread.
import { invalidArgType, invalidArgTypeJs, outOfRange, received } from './errors';

export interface DeliveryOptions {
  /**
   * Deliver a whole batch of messages in one native-to-JavaScript crossing.
   * process.nextTick callbacks and microtasks then run after the batch,
   * not between two messages. Default false (exactly as Node).
   */
  batch?: boolean;
  /**
   * After draining, poll for new messages for up to this many microseconds
   * before sleeping. Lowers latency for a busy peer at the cost of CPU, and
   * delays timers and I/O by up to that long. Default 0.
   */
  spin?: number;
  /**
   * Backpressure for what this port sends (README, "Backpressure"): bytes
   * posted and not yet taken by the peer above which `port.needDrain` turns
   * true until the 'drain' event. Infinity counts without ever asking for a
   * drain. A port without one keeps exactly Node's surface.
   */
  highWaterMark?: number;
}

/** What getPortOptions() returns: highWaterMark only for a port that has one. */
export type ResolvedDeliveryOptions = Required<Pick<DeliveryOptions, 'batch' | 'spin'>> & Pick<DeliveryOptions, 'highWaterMark'>;

export interface ResolvedOptions {
  batch: boolean;
  spin: number;
  /** NaN: none (the port keeps Node's surface). */
  highWaterMark: number;
}

export const DEFAULT_OPTIONS: ResolvedOptions = { batch: false, spin: 0, highWaterMark: NaN };

// Control word: bit 0 batch, bits 1..31 spin in microseconds.
const MAX_SPIN = 1_000_000;

export function packOptions(options: ResolvedOptions): number {
  return (options.batch ? 1 : 0) | (options.spin << 1);
}

export function unpackOptions(word: number, highWaterMark: number): ResolvedOptions {
  if (word === 0 && highWaterMark !== highWaterMark) return DEFAULT_OPTIONS;
  return { batch: (word & 1) === 1, spin: word >>> 1, highWaterMark };
}

/** A valid highWaterMark: a non-negative integer (a safe one) or Infinity. */
function isHighWaterMark(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && (Number.isSafeInteger(value) || value === Infinity);
}

/**
 * The options of `new MessageChannel(options)`. Node ignores whatever is
 * passed to its constructor, so a drop-in must not throw here: only values of
 * the right type take effect (setPortOptions() is the strict way).
 */
export function channelOptions(options: unknown): ResolvedOptions {
  if (options === null || typeof options !== 'object') return DEFAULT_OPTIONS;
  let batch: unknown;
  let spin: unknown;
  let highWaterMark: unknown;
  try {
    ({ batch, spin, highWaterMark } = options as DeliveryOptions);
  } catch {
    return DEFAULT_OPTIONS; // a throwing getter, a revoked Proxy: ignored, as Node ignores its arguments
  }
  const valid = {
    batch: batch === true,
    spin: typeof spin === 'number' && spin >= 0 && spin <= MAX_SPIN ? Math.floor(spin) : 0,
    highWaterMark: isHighWaterMark(highWaterMark) ? highWaterMark : NaN,
  };
  return valid.batch || valid.spin !== 0 || valid.highWaterMark === valid.highWaterMark ? valid : DEFAULT_OPTIONS;
}

/** Reads the options a user passed, throwing Node-style errors for wrong types. */
export function resolveOptions(options: unknown, base: ResolvedOptions = DEFAULT_OPTIONS): ResolvedOptions {
  if (options === undefined || options === null || typeof options !== 'object') return base;
  const { batch, spin, highWaterMark } = options as DeliveryOptions;
  if (batch !== undefined && typeof batch !== 'boolean') {
    throw invalidArgType(`The "options.batch" property must be of type boolean.${received(batch)}`);
  }
  if (spin !== undefined && (typeof spin !== 'number' || !(spin >= 0) || spin > MAX_SPIN)) {
    throw invalidArgType(
      `The "options.spin" property must be a number of microseconds from 0 to ${MAX_SPIN}.${received(spin)}`,
    );
  }
  if (highWaterMark !== undefined) {
    if (typeof highWaterMark !== 'number') {
      throw invalidArgTypeJs('options.highWaterMark', 'of type number', highWaterMark);
    }
    if (!isHighWaterMark(highWaterMark)) {
      throw outOfRange('options.highWaterMark', '>= 0 && <= 9007199254740991, or Infinity', highWaterMark);
    }
  }
  return {
    batch: batch ?? base.batch,
    spin: spin === undefined ? base.spin : Math.floor(spin),
    highWaterMark: highWaterMark ?? base.highWaterMark,
  };
}
