// The native surface (native/addon.cc), typed. The only file that loads it.
import * as path from 'node:path';

/** One end of a channel attached to this thread (native PortHandle). */
export interface PortHandle {
  /** Makes `port` the async resource (type MESSAGEPORT) and keeps it alive until it closes. */
  bind(port: object): void;
  /** The channel control block: consumer sleep flags and gone flags. */
  control(): ArrayBuffer;
  /** Current segment of the ring this port writes. */
  outgoing(): ArrayBuffer;
  /** Current segment of the ring this port reads. */
  incoming(): ArrayBuffer;
  /** Starts a new outgoing segment (kNext marker in the old one); returns its view. */
  switchOutgoing(oldView: ArrayBuffer, capacity: number): ArrayBuffer;
  /** Follows a kNext marker; returns the next segment's view. */
  advanceIncoming(oldView: ArrayBuffer): ArrayBuffer;
  /** Drops a segment view now (detaches it). */
  release(view: ArrayBuffer): void;
  /** Wakes the peer after winning its sleeping -> awake exchange. */
  wakePeer(): void;
  /** Wakes this port on its own thread, in the poll phase. */
  schedule(): void;
  /** Asks the peer to shrink the ring it writes to us. */
  requestTrim(): void;
  /** Consumer that won the peer's drain request back: wakes the peer (lib/backpressure.ts). */
  notifyDrain(): void;
  /** Blocks up to `ms` (Infinity: no limit) until the incoming ring holds something; calls `probe` between slices. */
  waitIncoming(ms: number, probe: () => void): boolean;
  /** Consumer side of the wake-up protocol without mapping the ring: true if now asleep (nothing to read). */
  sleepIfEmpty(): boolean;
  /** Parks ports carried by the next message; 0 means the peer left and the port was closed. */
  transfer(handles: PortHandle[]): number[];
  /** Parks this port behind a handle token (detachPort). */
  detach(): number;
  /** Leaves the channel in this iteration's close phase, then emits 'close'. */
  close(): void;
  /** Leaves the channel now (the port was in a message nobody will read); 'close' follows in the close phase. */
  drop(): void;
  isPeerOf(other: PortHandle): boolean;
  /** threadId of the thread that owns the peer now, or -1 (in flight, parked, gone). */
  peerThread(): number;
  readonly side: number;
  /** Unique per channel for the life of the process. */
  readonly channelId: number;
  /** threadId of the thread that gave this port up, or -1 for a port created here. */
  readonly previousThread: number;
}

/** Shared-memory layout and protocol constants, from native/ring.h and native/port.h. */
export interface Layout {
  readonly cacheLine: number;
  readonly segmentHeaderBytes: number;
  readonly recordHeader: number;
  readonly recordAlign: number;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** Growth doubles up to this capacity, then chains segments of it (native/ring.h). */
  readonly chainCapacity: number;
  readonly maxPayload: number;
  readonly tailWord: number;
  readonly headWord: number;
  readonly stateWord0: number;
  readonly stateWord1: number;
  readonly goneWord0: number;
  readonly goneWord1: number;
  readonly optionsWord0: number;
  readonly optionsWord1: number;
  readonly publishedWord0: number;
  readonly publishedWord1: number;
  readonly consumedWord0: number;
  readonly consumedWord1: number;
  /** Side-channel sends into side 0 / 1 in progress (native/port.h). */
  readonly sendingWord0: number;
  readonly sendingWord1: number;
  readonly controlBytes: number;
  /** Backpressure words (native/port.h ControlLayout), indexed by the consuming side: Int32 words, then Float64 elements. */
  readonly drainArmedWord0: number;
  readonly drainArmedWord1: number;
  readonly highWaterMarkDouble0: number;
  readonly highWaterMarkDouble1: number;
  readonly drainTargetDouble0: number;
  readonly drainTargetDouble1: number;
  readonly postedDouble0: number;
  readonly postedDouble1: number;
  readonly takenDouble0: number;
  readonly takenDouble1: number;
  readonly kindMessage: number;
  readonly kindWrap: number;
  readonly kindNext: number;
  readonly kindClose: number;
  readonly wakeMessages: number;
  readonly wakeTrim: number;
  readonly wakeDrain: number;
  readonly eventWake: number;
  readonly eventClosed: number;
}

export interface NativeBinding {
  /** Registers `dispatch`, called as dispatch.call(port, event, argument) inside the port's async context, and this thread's id. */
  init(dispatch: (this: object, event: number, argument: number) => boolean, threadId: number): void;
  /** An object shared by every copy of the library loaded in this thread. */
  shared(): Record<string, unknown>;
  createChannel(initialCapacity: number): [PortHandle, PortHandle];
  /** The port parked under `token`, now attached to this thread; null if there is none. */
  attach(token: number): PortHandle | null;
  /** One more port keeps this thread's event loop alive. */
  ref(): void;
  /** One port fewer keeps this thread's event loop alive. */
  unref(): void;
  readonly layout: Layout;
}

function load(): NativeBinding {
  const root = path.join(__dirname, '..');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return gypBuild(root) as NativeBinding;
  } catch (cause) {
    throw new Error(
      'ringport: the native addon could not be loaded. ' +
        'Reinstall the package so that it builds (`npm install ringport`, which needs ' +
        'python3, make and a C++17 compiler when no prebuilt binary matches), or run ' +
        '`npm run build:native` in the package directory. Cause: ' +
        (cause instanceof Error ? cause.message : String(cause)),
      { cause },
    );
  }
}

export const native: NativeBinding = load();
export const layout: Layout = native.layout;
