// Backpressure (README, "Backpressure"): port.bufferedAmount, the
// highWaterMark option, port.needDrain and the 'drain' event, in the shape of
// Node's writable streams. postMessage still never blocks and never drops.
//
// Counting. Every port counts, whether it asked for backpressure or not (a
// port may opt in while messages are queued): its producer adds each
// message's encoded size to a Float64 counter in the channel's control block,
// and the peer's consumer adds it to another one when it takes the message
// (pops it, before its listener runs). bufferedAmount is their difference.
// The ring's own byte positions cannot give it: they restart at 0 in each
// chained segment, include headers, padding and skipped tails, and the
// producer cannot see the head of a segment it has left (the consumer frees
// it). The counters are in the control block, so they travel with a
// transferred port. A plain Float64 store per message on each side, on a
// line only that side writes.
//
// The drain notification (native/port.cc has the protocol and why no
// wake-up is lost; native/test checks it): when a post takes bufferedAmount
// above the high-water mark, the producer stores a target (the taken count
// at which bufferedAmount is half the mark) and arms a flag; the consumer
// checks the flag per message (a plain load, the fast path) and after it
// stores "sleeping" (a seq_cst load, the guarantee); whoever of the two
// exchanges the flag back to 0 acts: the consumer wakes the producer's
// thread (kWakeDrain through its one async handle), which re-checks and
// emits 'drain', or re-arms if it posted more meanwhile.
import { layout, native, type PortHandle } from './binding';
import type { NodeEventTargetLike } from './node-internals';
import type { MessagePort } from './port';

export const WAKE_DRAIN = layout.wakeDrain;

const ARMED = [layout.drainArmedWord0, layout.drainArmedWord1];
const HIGH_WATER_MARK = [layout.highWaterMarkDouble0, layout.highWaterMarkDouble1];
const TARGET = [layout.drainTargetDouble0, layout.drainTargetDouble1];
const POSTED = [layout.postedDouble0, layout.postedDouble1];
const TAKEN = [layout.takenDouble0, layout.takenDouble1];

/** What this module needs of a port's state (lib/port.ts PortState). */
export interface BackpressureHost {
  handle: PortHandle | null;
  control: Int32Array | null;
  /** The control block as Float64 elements (created with `control`). */
  bytes: Float64Array | null;
  readonly peerStateWord: number;
  readonly peerGoneWord: number;
  /** Float64 index of the counter of bytes posted by this port. */
  readonly postedIndex: number;
  /** Float64 index of the counter of bytes this port has taken. */
  readonly takenIndex: number;
  /** Int32 index of the peer's drain request on what this port receives, and its Float64 target. */
  readonly armedIndex: number;
  readonly targetIndex: number;
  bp: Backpressure | null;
  readonly detached: boolean;
  closed: boolean;
  ctrl(): Int32Array;
}

/** Control-block indices of a port's own words, by its side. */
export function backpressureIndices(side: number): {
  postedIndex: number;
  takenIndex: number;
  armedIndex: number;
  targetIndex: number;
} {
  return { postedIndex: POSTED[side ^ 1], takenIndex: TAKEN[side], armedIndex: ARMED[side], targetIndex: TARGET[side] };
}

/** The producer-side state of a port that asked for backpressure. */
export class Backpressure {
  /** bufferedAmount went above the mark; false again when 'drain' is emitted. */
  needDrain = false;
  /** This port holds a native.ref() for an awaited 'drain'. */
  refed = false;
  drainListeners: number;
  private readonly taken: number;
  private readonly armed: number;
  private readonly target: number;

  constructor(
    readonly port: NodeEventTargetLike,
    side: number,
    public highWaterMark: number,
  ) {
    const peer = side ^ 1;
    this.taken = TAKEN[peer];
    this.armed = ARMED[peer];
    this.target = TARGET[peer];
    this.drainListeners = port.listenerCount('drain');
  }

  /** Bytes posted and not taken, 0 once the peer has left. */
  buffered(st: BackpressureHost): number {
    if (Atomics.load(st.control as Int32Array, st.peerGoneWord) !== 0) return 0;
    const bytes = st.bytes as Float64Array;
    const buffered = bytes[st.postedIndex] - bytes[this.taken];
    return buffered > 0 ? buffered : 0;
  }

  /**
   * Asks the consumer for a kWakeDrain once bufferedAmount is half the mark.
   * True if it already is, and the request was taken back (no wake-up comes).
   */
  arm(st: BackpressureHost): boolean {
    const ctrl = st.control as Int32Array;
    const bytes = st.bytes as Float64Array;
    const target = bytes[st.postedIndex] - this.highWaterMark / 2;
    // Published by the seq_cst store of the flag.
    bytes[this.target] = target;
    Atomics.store(ctrl, this.armed, 1);
    // Reading "sleeping" synchronizes with the consumer's store of it: its
    // count is then complete; reading "awake", its next sleep sees the flag.
    Atomics.load(ctrl, st.peerStateWord);
    return bytes[this.taken] >= target && Atomics.exchange(ctrl, this.armed, 0) === 1;
  }

  /** Keeps the event loop alive while a 'drain' listener waits (a pending write). */
  updateRef(st: BackpressureHost): void {
    const want = this.needDrain && this.drainListeners > 0 && !st.detached && !st.closed;
    if (want === this.refed) return;
    this.refed = want;
    if (want) native.ref();
    else native.unref();
  }
}

// ---- options --------------------------------------------------------------

/** The high-water mark stored for what the port of `side` sends (NaN: none). */
export function storedHighWaterMark(st: BackpressureHost, side: number): number {
  st.ctrl();
  return (st.bytes as Float64Array)[HIGH_WATER_MARK[side ^ 1]];
}

/** Gives `port` its backpressure surface and stores the mark with the channel. */
export function enableBackpressure(port: NodeEventTargetLike, st: BackpressureHost, highWaterMark: number): void {
  if (st.bp === null) {
    if (st.handle === null) return;
    st.bp = new Backpressure(port, st.handle.side, highWaterMark);
    Object.defineProperties(port, ACCESSORS);
  }
  st.bp.highWaterMark = highWaterMark;
  if (!st.detached && st.handle !== null) {
    st.ctrl();
    (st.bytes as Float64Array)[HIGH_WATER_MARK[st.handle.side ^ 1]] = highWaterMark;
  }
  // A lower mark applies from the next post; a higher one may end a wait now.
  if (st.bp.needDrain) drainWoken(st);
}

let stateOf: (port: unknown) => BackpressureHost = () => {
  throw new Error('ringport: backpressure used before the port module loaded');
};

/** lib/port.ts hands over its state lookup (which throws Illegal invocation for non-ports). */
export function setStateLookup(lookup: (port: unknown) => BackpressureHost): void {
  stateOf = lookup;
}

/** Bytes posted by the port and not yet taken by the peer's JavaScript; 0 once closed, transferred or the peer left. */
export function bufferedAmount(st: BackpressureHost): number {
  if (st.detached || st.closed || st.handle === null || st.bp === null) return 0;
  st.ctrl();
  return st.bp.buffered(st);
}

/** True from the post that took bufferedAmount above highWaterMark until 'drain'. */
export function needDrain(st: BackpressureHost): boolean {
  const bp = st.bp;
  if (bp === null || !bp.needDrain || st.detached || st.closed || st.handle === null) return false;
  return Atomics.load(st.ctrl(), st.peerGoneWord) === 0;
}

// Own, non-enumerable accessors of the ports that asked: other ports keep
// exactly Node's surface (the differential suite compares it).
const ACCESSORS: PropertyDescriptorMap = {
  bufferedAmount: {
    get(this: unknown): number {
      return bufferedAmount(stateOf(this));
    },
    configurable: true,
    enumerable: false,
  },
  needDrain: {
    get(this: unknown): boolean {
      return needDrain(stateOf(this));
    },
    configurable: true,
    enumerable: false,
  },
};

// ---- producer ---------------------------------------------------------------

/** After a post on a port with a high-water mark. */
export function afterPost(st: BackpressureHost): void {
  const bp = st.bp as Backpressure;
  if (bp.needDrain || bp.buffered(st) <= bp.highWaterMark) return;
  // Taken back at once when the consumer caught up meanwhile: the caller
  // never saw needDrain true, so no 'drain' is owed.
  if (bp.arm(st)) return;
  bp.needDrain = true;
  bp.updateRef(st);
}

/** kWakeDrain: the consumer reached the target (or the mark changed). */
export function drainWoken(st: BackpressureHost): void {
  const bp = st.bp;
  if (bp === null || !bp.needDrain || st.detached || st.closed || st.handle === null) return;
  st.ctrl();
  if (Atomics.load(st.control as Int32Array, st.peerGoneWord) !== 0) return; // 'close' follows, no 'drain'
  if (bp.buffered(st) > bp.highWaterMark / 2 && !bp.arm(st)) return; // posted more meanwhile: wait again
  bp.needDrain = false;
  bp.updateRef(st);
  bp.port.emit('drain');
}

/** A 'drain' listener was added or removed; `count` is how many there are now. */
export function drainListenersChanged(st: BackpressureHost, count: number): void {
  const bp = st.bp;
  if (bp === null) return;
  bp.drainListeners = count;
  bp.updateRef(st);
}

/** The port closed or moved away: no 'drain' after that, and no ref. */
export function backpressureClosed(st: BackpressureHost): void {
  const bp = st.bp;
  if (bp === null) return;
  bp.needDrain = false;
  bp.updateRef(st);
}

// ---- consumer ---------------------------------------------------------------

/** The consumer took a message of `size` bytes (popped it; its listener has not run yet). */
export function took(st: BackpressureHost, size: number): void {
  if (st.bytes === null) st.ctrl(); // receiveMessageOnPort may come first
  const bytes = st.bytes as Float64Array;
  bytes[st.takenIndex] += size;
  // The fast path of the drain check; consumerSleeps() is the guarantee.
  if ((st.control as Int32Array)[st.armedIndex] !== 0) drainReached(st);
}

/** The consumer stored "sleeping" (seq_cst): the check that makes the drain wake-up certain. */
export function consumerSleeps(st: BackpressureHost): void {
  if (Atomics.load(st.control as Int32Array, st.armedIndex) !== 0) drainReached(st);
}

function drainReached(st: BackpressureHost): void {
  const ctrl = st.control as Int32Array;
  const bytes = st.bytes as Float64Array;
  // The target was stored before the flag: read it after an Atomics load of the flag.
  if (Atomics.load(ctrl, st.armedIndex) === 0) return;
  if (bytes[st.takenIndex] < bytes[st.targetIndex]) return;
  if (Atomics.exchange(ctrl, st.armedIndex, 0) === 1) (st.handle as PortHandle).notifyDrain();
}

/** A port that asked for backpressure (a highWaterMark, from its channel or setPortOptions). */
export interface BackpressurePort extends MessagePort {
  /** Bytes of the encoded messages this port posted that the peer's JavaScript has not taken yet; 0 once closed, transferred or the peer left. */
  readonly bufferedAmount: number;
  /** True from the post that took bufferedAmount above highWaterMark until 'drain' (Node's writable.writableNeedDrain). */
  readonly needDrain: boolean;
}
