// MessagePort: Node's NodeEventTarget surface over a native channel end.
// Sending encodes straight into the outgoing ring; receiving drains the
// incoming ring when the native side wakes this thread, dispatching each
// message the way Node does (nextTicks and microtasks in between).
import { inspect, types } from 'node:util';
import { threadId, type Transferable as NodeTransferable } from 'node:worker_threads';

import { layout, native, type PortHandle } from './binding';
import { Decoder, DecodeError } from './codec/decode';
import { Encoder, type EncodeContext } from './codec/encode';
import {
  constructCallInvalid,
  dataCloneError,
  illegalInvocation,
  invalidArgType,
  invalidTransferObject,
  missingArgs,
  missingTransferable,
} from './errors';
import { MessagePortCloseEvent, messageEvent, setPortBrand } from './events';
import {
  kCreateEvent,
  kCurrentlyReceivingPorts,
  kEvents,
  kHybridDispatch,
  kNewListener,
  kRemoveListener,
  eventTargetPrototype,
  NodeEventTarget,
  NodeMessagePort,
  runNextTicks,
  type HybridDispatch,
  type NodeEventTargetLike,
} from './node-internals';
import {
  packOptions,
  resolveOptions,
  unpackOptions,
  type DeliveryOptions,
  type ResolvedDeliveryOptions,
  type ResolvedOptions,
} from './options';
import { AWAKE, Consumer, KIND_CLOSE, Producer, SLEEPING } from './ring';
import {
  afterPost,
  backpressureClosed,
  backpressureIndices,
  consumerSleeps,
  drainListenersChanged,
  drainWoken,
  enableBackpressure,
  setStateLookup,
  storedHighWaterMark,
  took,
  WAKE_DRAIN,
  type Backpressure,
} from './backpressure';
import {
  patchTokens,
  primitivePayloadSize,
  readPayloadHeader,
  writeForeignTrailer,
  writePayloadHeader,
  writePrimitivePayload,
} from './codec/message';
import {
  arrived,
  departed,
  discardForeign,
  ForeignLost,
  forget,
  isForeign,
  portKey,
  putAll,
  sendForeign,
  takeAll,
  takeForeign,
  type ForeignRef,
} from './foreign';

/** A port of a ringport MessageChannel: the API of node:worker_threads' MessagePort. */
export interface MessagePort extends NodeEventTargetLike {
  postMessage(value: unknown, transfer?: readonly unknown[] | { transfer?: Iterable<unknown> } | Iterable<unknown>): void;
  start(): void;
  close(callback?: () => void): void;
  ref(): void;
  unref(): void;
  hasRef(): boolean;
  onmessage: ((this: MessagePort, event: MessageEvent) => unknown) | null;
  onmessageerror: ((this: MessagePort, event: MessageEvent) => unknown) | null;
}

export interface MessagePortConstructor {
  /** Ports come from `new MessageChannel()` or arrive in messages; this constructor throws as Node's does. */
  new (): never;
  readonly prototype: MessagePort;
}

/** The method native code calls on a port: this[kOnNative](event, argument). */
const kOnNative = Symbol.for('ringport.onNative');

const EVENT_WAKE = layout.eventWake;
const EVENT_CLOSED = layout.eventClosed;
const WAKE_MESSAGES = layout.wakeMessages;
const WAKE_TRIM = layout.wakeTrim;
// Node's anti-starvation rule: at most max(1000, backlog) messages per wake-up.
const BATCH_LIMIT = 1000;
// A consumer that drained a segment at least this large asks for a smaller one.
const TRIM_CAPACITY = 64 * 1024;
const SHRINK_DELAY_MS = 100;

class PortState {
  handle: PortHandle | null;
  control: Int32Array | null = null;
  producer: Producer | null = null;
  consumer: Consumer | null = null;
  readonly stateWord: number;
  readonly peerStateWord: number;
  readonly peerGoneWord: number;
  readonly optionsWord: number;
  /** Messages published to this port (written by the peer), and to the peer (written here). */
  readonly publishedWord: number;
  readonly peerPublishedWord: number;
  /** Where `consumed` is kept while the port changes owner. */
  readonly consumedWord: number;
  /** Messages this port has taken (with publishedWord: the backlog). */
  consumed = 0;
  options: ResolvedOptions;
  /** Delivering messages (a 'message' listener exists, or start() was called). */
  started = false;
  /** Keeps the event loop alive (Node's uv_ref on the port's handle). */
  refed = false;
  /** close() was called or the peer's close marker was read; 'close' comes in the close phase. */
  closing = false;
  /** 'close' was emitted. */
  closed = false;
  /** Handed to another owner (transfer list or detachPort). */
  transferred = false;
  /** Moved by moveMessagePortToContext: Node's original then posts into nowhere, returning true, and emits no 'close'. */
  moved = false;
  /** The consumer's segment we already asked the peer to shrink. */
  trimRequested: ArrayBuffer | null = null;
  /** Pending check for shrinking the outgoing ring (scheduleShrink). */
  shrinkTimer: NodeJS.Timeout | null = null;
  /** Messages this wake-up may still deliver (Node's max(1000, backlog) rule). */
  budget = 0;
  /** Per-message fallback (no runNextTicks): the drain resumes in a fresh callback. */
  resuming = false;
  /** The drain stopped because a listener threw: its exception is rethrown as the callback closes. */
  faulted = false;
  /** A message or messageerror listener was added since the last delivery (see guardListeners). */
  unguarded = false;
  /** Backpressure (lib/backpressure.ts): the control block's Float64 counters, their indices, and the opt-in state. */
  bytes: Float64Array | null = null;
  readonly postedIndex: number;
  readonly takenIndex: number;
  readonly armedIndex: number;
  readonly targetIndex: number;
  bp: Backpressure | null = null;
  /** This end's and the peer's keys for values beside the ring (foreign.ts), made on first use. */
  private keys: [string, string] | null = null;

  constructor(handle: PortHandle, options: ResolvedOptions | null, readonly side: number) {
    this.handle = handle;
    this.stateWord = side === 0 ? layout.stateWord0 : layout.stateWord1;
    this.peerStateWord = side === 0 ? layout.stateWord1 : layout.stateWord0;
    this.peerGoneWord = side === 0 ? layout.goneWord1 : layout.goneWord0;
    this.optionsWord = side === 0 ? layout.optionsWord0 : layout.optionsWord1;
    this.publishedWord = side === 0 ? layout.publishedWord0 : layout.publishedWord1;
    this.peerPublishedWord = side === 0 ? layout.publishedWord1 : layout.publishedWord0;
    this.consumedWord = side === 0 ? layout.consumedWord0 : layout.consumedWord1;
    ({
      postedIndex: this.postedIndex,
      takenIndex: this.takenIndex,
      armedIndex: this.armedIndex,
      targetIndex: this.targetIndex,
    } = backpressureIndices(side));
    if (options === null) {
      // Arrived from elsewhere: pick up where the previous owner left.
      this.options = unpackOptions(Atomics.load(this.ctrl(), this.optionsWord), storedHighWaterMark(this, side));
      this.consumed = Atomics.load(this.ctrl(), this.consumedWord);
    } else {
      this.options = options;
      if (options.batch || options.spin !== 0) Atomics.store(this.ctrl(), this.optionsWord, packOptions(options));
    }
  }

  /** The key of this end (`peer` false) or of the peer's, for values beside the ring. */
  key(peer: boolean): string {
    if (this.keys === null) {
      const handle = this.handle as PortHandle;
      const id = handle.channelId;
      this.keys = [portKey(id, this.side), portKey(id, this.side ^ 1)];
    }
    return this.keys[peer ? 1 : 0];
  }

  /** Cannot send any more: closing, closed or transferred. */
  get detached(): boolean {
    return this.closing || this.closed || this.transferred;
  }

  ctrl(): Int32Array {
    if (this.control === null) {
      this.control = new Int32Array((this.handle as PortHandle).control());
      this.bytes = new Float64Array(this.control.buffer);
    }
    return this.control;
  }

  out(): Producer {
    if (this.producer === null) this.producer = new Producer(this.handle as PortHandle);
    return this.producer;
  }

  in(): Consumer {
    if (this.consumer === null) this.consumer = new Consumer(this.handle as PortHandle);
    return this.consumer;
  }

  /** Drops the shared-memory views: this thread no longer touches the rings. */
  releaseViews(): void {
    if (this.control !== null) Atomics.store(this.control, this.consumedWord, this.consumed);
    if (this.producer !== null) this.producer.release();
    if (this.consumer !== null) this.consumer.release();
    this.producer = null;
    this.consumer = null;
    this.control = null;
    this.bytes = null;
  }
}

interface PortObject extends MessagePort {
  [kCurrentlyReceivingPorts]: MessagePort[] | undefined;
}

/** Returns its argument: `this` of a class extending it is then that object. */
class ReturnArgument {
  constructor(object: object) {
    return object;
  }
}

/**
 * Stamps a private brand on an existing object (a derived class initializes
 * its fields on whatever its base constructor returned). `#brand in value`
 * then tells ports apart without running a Proxy's traps, as V8's own
 * receiver checks do.
 */
class PortBrand extends ReturnArgument {
  // A private field rather than a symbol-keyed property: set without
  // Object.defineProperty (a port's creation cost), and invisible to
  // util.inspect and Object.assign, as Node's ports have no such field.
  #state: PortState;
  constructor(port: object, state: PortState) {
    super(port);
    this.#state = state;
  }
  static has(value: object): boolean {
    return #state in value;
  }
  static state(port: PortObject): PortState {
    return (port as unknown as PortBrand).#state;
  }
}

/** The state of a value known to be a port (exported for the decoder fuzz test's ring seam). */
export const portState = PortBrand.state;

function isPort(value: unknown): value is PortObject {
  return typeof value === 'object' && value !== null && PortBrand.has(value);
}

function stateOf(port: unknown): PortState {
  if (!isPort(port)) throw illegalInvocation();
  return portState(port);
}

// ---- construction -----------------------------------------------------------

/**
 * The MessagePort constructor: like Node's, it cannot be called from
 * JavaScript, with or without `new`. Node's is a native function with the
 * own properties of a sloppy-mode one (arguments, caller); where code
 * generation is allowed, so is this one.
 */
export const MessagePort = ((): MessagePortConstructor => {
  function strictMessagePort(): never {
    throw constructCallInvalid();
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('fail', 'return function MessagePort() { fail(); };')(
      strictMessagePort,
    ) as MessagePortConstructor;
  } catch {
    Object.defineProperty(strictMessagePort, 'name', { value: 'MessagePort' });
    return strictMessagePort as unknown as MessagePortConstructor;
  }
})();
Object.setPrototypeOf(MessagePort, NodeEventTarget);

// Liveness as Node's setupPortReferencing: the first 'message' listener refs
// and starts the port, removing the last one stops and unrefs it. The two
// listeners below are never called (NodeEventTarget emits no 'newListener');
// Node registers them too, and they show in eventNames().
function onNewListener(): void {}
function onRemoveListener(): void {}
const eventTargetNewListener = (eventTargetPrototype as unknown as Record<symbol, (...args: unknown[]) => void>)[
  kNewListener
];
const eventTargetRemoveListener = (eventTargetPrototype as unknown as Record<symbol, (...args: unknown[]) => void>)[
  kRemoveListener
];

// Anonymous, as Node's (util.inspect shows them).
const portNewListener = function (this: PortObject, size: number, type: string): void {
  if (type === 'message' && size - 1 === 0) {
    this.ref();
    startPort(portState(this));
  }
  // The first listener's record is filed after this hook runs: guarded at the next delivery.
  if (type === 'message' || type === 'messageerror') portState(this).unguarded = true;
  if (type === 'drain') drainListenersChanged(portState(this), size);
  // eslint-disable-next-line prefer-rest-params
  eventTargetNewListener.apply(this, arguments as unknown as unknown[]);
};

const portRemoveListener = function (this: PortObject, size: number, type: string): void {
  if (type === 'message' && size === 0) {
    portState(this).started = false;
    this.unref();
  }
  if (type === 'drain') drainListenersChanged(portState(this), size);
  // eslint-disable-next-line prefer-rest-params
  eventTargetRemoveListener.apply(this, arguments as unknown as unknown[]);
};

// Listener faults. Node's dispatcher rethrows a listener's exception from a
// process.nextTick callback. That tick must run from a native callback
// scope, not from runNextTicks() inside drain(): only there does an uncaught
// throw reach Node's handler with its own location and async id stack. So
// each message/messageerror callback is guarded, and a message whose
// listener threw ends the JavaScript-side drain; the native side closes the
// scope (running the tick) and calls again. A tick that throws inside
// runNextTicks() (a rejected async listener, a user's nextTick) still reaches
// Node's handler, through napi_fatal_exception: only the source excerpt above
// a fatal error differs (README, Differences).
let listenerThrew = false;
// callback.call(this, arg) that user code cannot redirect, without an arguments array per message.
const functionCall = Function.prototype.call.bind(Function.prototype.call) as (fn: unknown, self: unknown, arg: unknown) => unknown;

/** A node of Node's listener list (lib/internal/event_target.js Listener). */
interface ListenerRecord {
  next: ListenerRecord | undefined;
  callback: unknown;
  isNodeStyleListener?: boolean;
  once?: boolean;
  weak?: boolean;
  removed?: boolean;
}

const guards = new WeakSet<object>();

/** Guards every callback of `type` not guarded yet (lists are short; onmessage re-files its record). */
function guardListeners(port: PortObject, type: string): void {
  const root = (port as unknown as Record<symbol, Map<string, ListenerRecord>>)[kEvents].get(type);
  for (let record = root?.next; record !== undefined; record = record.next) {
    const callback = record.callback;
    // A weak listener's callback is a WeakRef (Node's internal handlers only).
    if (typeof callback !== 'function' || guards.has(callback)) continue;
    const guarded = function (this: unknown, arg: unknown): unknown {
      try {
        return functionCall(callback, this, arg);
      } catch (error) {
        listenerThrew = true;
        throw error;
      }
    };
    guards.add(guarded);
    record.callback = guarded;
  }
}

for (const hook of [portNewListener, portRemoveListener]) Object.defineProperty(hook, 'name', { value: '' });

// The own fields a NodeEventTarget starts with (Node's initEventTarget):
// maps get a fresh instance of their class, the rest are copied.
const eventTargetTemplate = new NodeEventTarget() as unknown as Record<PropertyKey, unknown>;
const eventTargetFields = Reflect.ownKeys(eventTargetTemplate).map((key) => {
  const initial = eventTargetTemplate[key];
  const MapClass = types.isMap(initial) ? ((initial as Map<unknown, unknown>).constructor as MapConstructor) : null;
  return { key, initial, MapClass };
});
const kOnInit = Object.getOwnPropertySymbols(NodeMessagePort.prototype).find((s) => s.description === 'oninit');

/**
 * Sets a new port up as Node's oninit does: EventTarget fields, then
 * listener bookkeeping (setupPortReferencing). Node runs it after the port's
 * async resource is initialized; so does createPort().
 */
function oninit(this: PortObject): void {
  const fields = this as unknown as Record<PropertyKey, unknown>;
  for (let i = 0; i < eventTargetFields.length; i++) {
    const { key, initial, MapClass } = eventTargetFields[i];
    fields[key] = MapClass !== null ? new MapClass() : initial;
  }
  this.on('newListener', onNewListener);
  this.on('removeListener', onRemoveListener);
  fields[kNewListener] = portNewListener;
  fields[kRemoveListener] = portRemoveListener;
  this[kCurrentlyReceivingPorts] = undefined;
}

/** Wraps a native handle in a new, unstarted and unreferenced port. */
/** `side`: the handle's, when the caller knows it (saves a native accessor call). */
export function createPort(handle: PortHandle, options: ResolvedOptions | null, side = handle.side): MessagePort {
  const port = Object.create(MessagePort.prototype) as PortObject;
  // Not enumerable: util.inspect and Object.assign list a port's enumerable
  // own symbols, and Node's ports have no such field.
  new PortBrand(port, new PortState(handle, options, side));
  // The async resource of type MESSAGEPORT is the port itself; as in Node,
  // an init hook sees it before its JavaScript setup.
  handle.bind(port);
  arrived(handle);
  oninit.call(port);
  const mark = portState(port).options.highWaterMark;
  if (mark === mark) enableBackpressure(port, portState(port), mark);
  // A port that arrives from elsewhere may hold records that woke nobody
  // while it was in flight: look once.
  if (options === null) handle.schedule();
  return port;
}

// ---- sending ----------------------------------------------------------------

const EMPTY: readonly unknown[] = [];
const NO_PORTS: readonly PortObject[] = [];

/** Node's ReadIterable: null when `value` is not iterable. */
function readIterable(value: unknown): unknown[] | null {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return null;
  if (!types.isProxy(value) && Array.isArray(value)) {
    const list = new Array<unknown>(value.length);
    for (let i = 0; i < list.length; i++) list[i] = (value as unknown[])[i];
    return list;
  }
  const method = (value as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof method !== 'function') return null;
  const iterator: unknown = method.call(value);
  if (iterator === null || (typeof iterator !== 'object' && typeof iterator !== 'function')) return null;
  const next = (iterator as { next?: unknown }).next;
  if (typeof next !== 'function') return null;
  const entries: unknown[] = [];
  for (;;) {
    const result: unknown = next.call(iterator);
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return null;
    if ((result as { done?: unknown }).done) break;
    entries.push((result as { value?: unknown }).value);
  }
  return entries;
}

/** The transfer list from postMessage's second argument, as Node reads it. */
function readTransferList(arg: unknown): readonly unknown[] {
  if (arg === undefined || arg === null) return EMPTY;
  if (typeof arg !== 'object' && typeof arg !== 'function') {
    throw invalidArgType('Optional transferList argument must be an iterable');
  }
  const list = readIterable(arg);
  if (list !== null) return list;
  const transfer = (arg as { transfer?: unknown }).transfer;
  if (transfer === undefined) return EMPTY;
  const options = readIterable(transfer);
  if (options === null) throw invalidArgType('Optional options.transfer argument must be an iterable');
  return options;
}

/**
 * Whether Node skips an ArrayBuffer of a transfer list (marked with
 * markAsUntransferable, not detachable, or already detached). Only Node's
 * serializer sees the mark: listing the buffer twice makes it report a
 * duplicate for a transferable buffer, without detaching anything.
 */
function isSkippedBuffer(buffer: ArrayBuffer): boolean {
  try {
    structuredClone(undefined, { transfer: [buffer, buffer] });
    return true;
  } catch {
    return false;
  }
}

interface TransferPlan {
  ports: PortObject[];
  buffers: ArrayBuffer[];
  /** Node's own transferables (its MessagePorts, FileHandles, web streams…): Node's serializer moves them. */
  node: object[];
}

/**
 * What Node's serializer thinks of a transfer-list entry ringport does not
 * know: listing it twice is an error for every transferable and no error for
 * one it skips, and the check runs before anything is detached.
 */
function probeNodeTransferable(entry: object): boolean {
  try {
    structuredClone(undefined, { transfer: [entry, entry] as unknown as NodeTransferable[] });
    return false; // skipped: marked with markAsUntransferable
  } catch (error) {
    const message = (error as Error).message ?? '';
    if ((error as Error).name === 'DataCloneError' && message.startsWith('Transfer list contains duplicate')) return true;
    throw error; // not transferable, or already detached: Node's own error
  }
}

/**
 * Whether markAsUntransferable() marked `object`. The mark is a V8 private
 * symbol only Node's serializer sees: it skips marked entries of a transfer
 * list and rejects other plain objects.
 */
function isMarkedUntransferable(object: object): boolean {
  try {
    structuredClone(undefined, { transfer: [object] as unknown as NodeTransferable[] });
    return true;
  } catch {
    return false;
  }
}

function planTransfer(source: PortObject, entries: readonly unknown[]): TransferPlan {
  const ports: PortObject[] = [];
  const buffers: ArrayBuffer[] = [];
  const skipped: ArrayBuffer[] = [];
  const node: object[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry === null || (typeof entry !== 'object' && typeof entry !== 'function')) throw invalidTransferObject();
    // Nothing Node can transfer is a Proxy; its traps must not run.
    if (types.isProxy(entry)) throw invalidTransferObject();
    if (types.isArrayBuffer(entry)) {
      if (buffers.includes(entry)) {
        // Node skips buffers it cannot detach (marked untransferable, or
        // already detached) before its duplicate check. Asking it costs an
        // exception, so only when there is a duplicate.
        if (isSkippedBuffer(entry)) {
          buffers.splice(buffers.indexOf(entry), 1);
          skipped.push(entry);
          continue;
        }
        throw dataCloneError('Transfer list contains duplicate ArrayBuffer');
      }
      if (!skipped.includes(entry)) buffers.push(entry);
      continue;
    }
    if (entry === source) throw dataCloneError('Transfer list contains source port');
    if (isPort(entry)) {
      // markAsUntransferable(port): Node skips it (and if the value holds
      // it, "needs transfer" follows).
      if (isMarkedUntransferable(entry)) continue;
      if (portState(entry).detached) throw dataCloneError('MessagePort in transfer list is already detached');
      if (ports.includes(entry)) throw dataCloneError('Transfer list contains duplicate MessagePort');
      ports.push(entry);
      continue;
    }
    if (!probeNodeTransferable(entry as object)) continue;
    if (node.includes(entry as object)) {
      throw dataCloneError(`Transfer list contains duplicate ${(entry as object).constructor?.name ?? 'Object'}`);
    }
    node.push(entry as object);
  }
  return { ports, buffers, node };
}

// Transferred ArrayBuffers at least this large move through Node's channel,
// which hands the memory over without copying; smaller ones are copied
// through the ring, which is faster for them.
const MOVE_THRESHOLD = 64 * 1024;

class SendContext implements EncodeContext {
  ports: readonly object[] = NO_PORTS;
  /** Transferred buffers that move through Node's channel. */
  moved: ArrayBuffer[] = [];
  /** Values Node's serializer carries; the encoding refers to them by index. */
  values: unknown[] = [];

  isPort(value: object): boolean {
    return isPort(value);
  }
  missingPort(value: object): Error {
    // A closed or transferred-away port is no longer a port to Node's serializer.
    const st = portState(value as PortObject);
    return st.detached || st.transferred || st.closing || st.closed
      ? dataCloneError('Cannot transfer object of unsupported type.')
      : missingTransferable();
  }
  isForeign(value: object): boolean {
    return isForeign(value);
  }
  foreign(value: object): number {
    return this.values.push(value) - 1;
  }
  movedBuffer(buffer: ArrayBuffer): number {
    if (this.moved.length === 0 || !this.moved.includes(buffer)) return -1;
    return this.values.push(buffer) - 1;
  }
  /** All transferred buffers (moved or copied). */
  buffers: readonly ArrayBuffer[] = NO_BUFFERS;
  isTransferred(buffer: ArrayBuffer): boolean {
    return this.buffers.includes(buffer);
  }
  reset(ports: readonly object[], moved: ArrayBuffer[], buffers: readonly ArrayBuffer[] = NO_BUFFERS): void {
    this.ports = ports;
    this.moved = moved;
    this.buffers = buffers;
    this.values = [];
  }
}

// Encoders are reused; a getter that posts while a message is being encoded
// takes another one.
const encoders: Encoder[] = [];
const contexts: SendContext[] = [];

function takeEncoder(): Encoder {
  return encoders.pop() ?? new Encoder();
}
function takeContext(): SendContext {
  return contexts.pop() ?? new SendContext();
}

/**
 * Makes transferred ArrayBuffers unusable here, as a transfer does. Node's
 * transfer skips the ones marked with markAsUntransferable, as its
 * postMessage does. Buffers that moved through Node's channel are already
 * detached.
 */
function detachBuffers(buffers: readonly ArrayBuffer[], moved: readonly ArrayBuffer[]): void {
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i];
    if (moved.length === 0 || !moved.includes(b)) structuredClone(b, { transfer: [b] });
  }
}

/**
 * The port object lets go of its handle, which leaves this thread: in a
 * message or parked by detachPort() (the caller tells foreign.ts once the
 * handle has left: departed()), or dropped (closed).
 */
function handOff(st: PortState, how: 'sent' | 'parked' | 'dropped'): PortHandle {
  st.transferred = true;
  st.started = false;
  st.releaseViews();
  const handle = st.handle as PortHandle;
  if (how === 'dropped') forget(handle);
  return handle;
}

/** The ports of a message nobody will read: they close, and their peers see 'close'. */
function dropPorts(ports: readonly PortObject[]): void {
  for (let i = 0; i < ports.length; i++) handOff(portState(ports[i]), 'dropped').drop();
}

/** The items of transferred ringport ports that wait in this thread go with them. */
interface Bundle {
  p: string;
  k: string[];
  e: { values: unknown[]; transfer: unknown[] }[];
}

function bundlesOf(ports: readonly PortObject[]): { bundles: Bundle[]; transfer: unknown[] } {
  const bundles: Bundle[] = [];
  const transfer: unknown[] = [];
  for (const p of ports) {
    const key = portState(p).key(false);
    const waiting = takeAll(key);
    if (waiting === null) continue;
    bundles.push({ p: key, k: waiting.keys, e: waiting.entries });
    for (const entry of waiting.entries) transfer.push(...entry.transfer);
  }
  return { bundles, transfer };
}

function postMessage(this: unknown, value: unknown, transfer?: unknown): boolean | undefined {
  const port = this as PortObject;
  const st = stateOf(port);
  if (arguments.length === 0) throw missingArgs('Not enough arguments to MessagePort.postMessage');
  if (transfer == null && postPrimitive(st, value)) return true;
  const plan = arguments.length > 1 && transfer != null ? planTransfer(port, readTransferList(transfer)) : null;
  const ports = plan === null ? NO_PORTS : plan.ports;
  let moved = NO_BUFFERS;
  if (plan !== null && plan.buffers.length > 0) {
    for (const b of plan.buffers) {
      if (b.byteLength >= MOVE_THRESHOLD) (moved === NO_BUFFERS ? (moved = []) : moved).push(b);
    }
  }

  const encoder = takeEncoder();
  const context = takeContext();
  context.reset(ports, moved, plan === null ? NO_BUFFERS : plan.buffers);
  // Where the message goes: the ring, or nowhere (but it is still serialized,
  // so that errors and detaching happen as in Node).
  const live = !st.detached && Atomics.load(st.ctrl(), st.peerGoneWord) === 0;
  const producer = live ? st.out() : null;
  let tokenOffset: number;
  let foreignRef: ForeignRef | null = null;
  let taken: Bundle[] = NO_BUNDLES.bundles;
  try {
    if (producer !== null) producer.begin(encoder, context);
    else encoder.begin(SCRATCH, SCRATCH_VIEW, 0, 0, context);
    tokenOffset = writePayloadHeader(encoder, ports.length);
    encoder.writeValue(value);
    const node = plan === null ? NO_OBJECTS : plan.node;
    const { bundles, transfer: bundled } = ports.length > 0 ? bundlesOf(ports) : NO_BUNDLES;
    taken = bundles;
    if (context.values.length > 0 || node.length > 0 || bundles.length > 0) {
      // Node's serializer carries part of the message: hand it over first, so
      // that its errors come before anything is detached.
      // Usually only moved buffers: no copies then.
      const values = node.length === 0 && bundles.length === 0 ? context.values : [...context.values, ...node, ...bundles];
      const nodeTransfer = node.length === 0 && bundled.length === 0 ? moved : [...node, ...moved, ...bundled];
      if (producer === null || ports.some((p) => isPeer(st, p))) {
        discardForeign(values, nodeTransfer);
      } else {
        const handle = st.handle as PortHandle;
        // Odd from before the reader's owner is read until its items are
        // posted: a port leaving that thread waits for this send to end
        // (native AwaitSendsTo), then finds them there.
        const ctrl = st.ctrl();
        const sending = st.side === 0 ? layout.sendingWord1 : layout.sendingWord0;
        Atomics.add(ctrl, sending, 1);
        try {
          foreignRef = sendForeign(st.key(true), handle.peerThread(), values, nodeTransfer);
        } finally {
          Atomics.add(ctrl, sending, 1);
        }
        writeForeignTrailer(encoder, foreignRef, context.values.length, node.length, bundles.length);
      }
    }
  } catch (error) {
    // The ports stay here: so do the items waiting for them.
    for (const bundle of taken) putAll(bundle.p, bundle.k, bundle.e);
    if (producer !== null) producer.abort();
    encoder.finish();
    encoders.push(encoder);
    context.reset(NO_PORTS, NO_BUFFERS);
    contexts.push(context);
    throw error;
  }
  context.reset(NO_PORTS, NO_BUFFERS);
  contexts.push(context);

  // Serialized: from here on the transfer happens.
  if (plan !== null) detachBuffers(plan.buffers, moved);
  let result: boolean | undefined = true;
  if (producer === null) {
    dropPorts(ports);
    result = st.moved ? true : st.detached ? undefined : false;
  } else if (ports.length > 0 && ports.some((p) => isPeer(st, p))) {
    // The entangled peer is in the transfer list: Node drops the message, the
    // channel is lost, and says so.
    producer.abort();
    dropPorts(ports);
    process.emitWarning('The target port was posted to itself, and the communication channel was lost');
  } else {
    if (ports.length > 0) {
      const keys: string[] = [];
      const handles: PortHandle[] = [];
      for (const p of ports) {
        const sent = portState(p);
        keys.push(sent.key(false));
        handles.push(handOff(sent, 'sent'));
      }
      patchTokens(encoder, tokenOffset, (st.handle as PortHandle).transfer(handles));
      for (const key of keys) departed(key);
    }
    producer.commit(encoder);
    // The backlog count (Node's max(1000, backlog)): a plain write, ordered
    // before the next message's seq_cst tail store.
    const ctrl = st.control as Int32Array;
    ctrl[st.peerPublishedWord] = (ctrl[st.peerPublishedWord] + 1) | 0;
    (st.bytes as Float64Array)[st.postedIndex] += encoder.size;
    wakePeer(st);
    if (st.bp !== null) afterPost(st);
  }
  encoder.finish();
  encoders.push(encoder);
  return result;
}

/**
 * The common case without an encoder: a primitive, no transfer list, a live
 * peer. False when the general path must do it (nothing was published).
 */
function postPrimitive(st: PortState, value: unknown): boolean {
  const size = primitivePayloadSize(value);
  if (size === 0 || st.detached) return false;
  const ctrl = st.ctrl();
  if (Atomics.load(ctrl, st.peerGoneWord) !== 0) return false;
  const producer = st.out();
  const at = producer.reserveSmall(size);
  if (at < 0 || !writePrimitivePayload(producer.bytes, producer.data, at, value)) return false;
  producer.publish(at, size);
  // The backlog count and the byte count, as in postMessage.
  ctrl[st.peerPublishedWord] = (ctrl[st.peerPublishedWord] + 1) | 0;
  (st.bytes as Float64Array)[st.postedIndex] += size;
  wakePeer(st);
  if (st.bp !== null) afterPost(st);
  return true;
}

function isPeer(st: PortState, other: PortObject): boolean {
  return (st.handle as PortHandle).isPeerOf(portState(other).handle as PortHandle);
}

const NO_BUFFERS: ArrayBuffer[] = [];
const NO_BUNDLES: { bundles: Bundle[]; transfer: unknown[] } = { bundles: [], transfer: [] };
const NO_OBJECTS: object[] = [];
const SCRATCH = new Uint8Array(0);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/** The producer half of the wake-up protocol (native/port.h). */
function wakePeer(st: PortState): void {
  const ctrl = st.control as Int32Array;
  if (Atomics.load(ctrl, st.peerStateWord) === SLEEPING && Atomics.exchange(ctrl, st.peerStateWord, AWAKE) === SLEEPING) {
    (st.handle as PortHandle).wakePeer();
  }
}

// ---- receiving --------------------------------------------------------------

const decoder = new Decoder();

interface Received {
  value: unknown;
  ports: MessagePort[];
}

/** Thrown by readMessage when the part Node's serializer carries has not arrived yet. */
const NOT_YET = Symbol('not yet');

const NO_RECEIVED_PORTS: MessagePort[] = [];
const lastReceived: Received = { value: undefined, ports: NO_RECEIVED_PORTS };

/** Decodes the record at the consumer's position; the caller pops it. */
function readMessage(st: PortState, c: Consumer): Received {
  const start = c.pos;
  const end = start + c.size;
  const header = readPayloadHeader(c.u8, c.dv, start, end);
  const tokens = header.tokens;
  const valueStart = header.valueStart;
  const valueEnd = header.valueEnd;
  let foreign: unknown[] | undefined;
  let nodePorts: MessagePort[] | undefined;
  if (header.foreign !== null) {
    const trailer = header.foreign;
    const items = takeForeign(st.key(false), trailer, () => {
      if (!st.detached && st.handle !== null) st.handle.schedule();
    });
    if (items === undefined) throw NOT_YET;
    foreign = items.slice(0, trailer.values);
    nodePorts = items
      .slice(trailer.values, trailer.values + trailer.nodePorts)
      .filter((v): v is MessagePort => v instanceof NodeMessagePort);
    for (const bundle of items.slice(trailer.values + trailer.nodePorts) as Bundle[]) putAll(bundle.p, bundle.k, bundle.e);
  }
  let ports: MessagePort[] = NO_RECEIVED_PORTS;
  if (tokens.length > 0) {
    ports = [];
    for (let i = 0; i < tokens.length; i++) {
      const handle = native.attach(tokens[i]);
      if (handle !== null) ports.push(createPort(handle, null));
    }
    if (ports.length !== tokens.length) {
      closeAll(ports);
      throw new DecodeError('Unable to deserialize cloned data.');
    }
  }
  try {
    const value = decoder.decode(c.u8, c.dv, valueStart, valueEnd, ports, foreign);
    if (nodePorts !== undefined && nodePorts.length > 0) ports = [...ports, ...nodePorts];
    // One result object, reused: callers take its fields at once.
    lastReceived.value = value;
    lastReceived.ports = ports;
    return lastReceived;
  } catch (error) {
    closeAll(ports);
    throw error;
  }
}

function closeAll(ports: readonly MessagePort[]): void {
  for (const p of ports) p.close();
}

function dispatch(port: PortObject, type: string, value: unknown, ports: MessagePort[] | undefined): void {
  const st = portState(port);
  if (st.unguarded) {
    st.unguarded = false;
    guardListeners(port, 'message');
    guardListeners(port, 'messageerror');
  }
  port[kCurrentlyReceivingPorts] = ports;
  try {
    const only = (port as unknown as Record<symbol, Map<string, ListenerRecord>>)[kEvents].get(type)?.next;
    if (only !== undefined && only.next === undefined && only.isNodeStyleListener === true && !only.once && !only.weak && !only.removed) {
      callNodeStyle(port, only.callback, value);
    } else {
      (port as unknown as Record<symbol, HybridDispatch>)[kHybridDispatch].call(port, value, type, undefined);
    }
  } finally {
    port[kCurrentlyReceivingPorts] = undefined;
  }
}

/**
 * One plain .on() listener (the common case): what Node's dispatch does for
 * it, without the two closures and the list walk it sets up per event. An
 * exception, or a result for Node's promise check, goes through Node's own
 * dispatch (relayToNode), so it is reported exactly as Node reports it.
 */
function callNodeStyle(port: PortObject, callback: unknown, value: unknown): void {
  let result: unknown;
  try {
    result = functionCall(callback, port, value);
  } catch (error) {
    relayToNode(error, true);
    return;
  }
  if (result !== undefined && result !== null) relayToNode(result, false);
}

const relayTarget = new NodeEventTarget() as unknown as { on(type: string, listener: () => unknown): void } & Record<symbol, HybridDispatch>;
let relayed: unknown;
let relayThrows = false;
relayTarget.on('relay', () => {
  if (relayThrows) throw relayed;
  return relayed;
});

/** Node's dispatch with a listener that throws `value` (thrown) or returns it. */
function relayToNode(value: unknown, thrown: boolean): void {
  relayed = value;
  relayThrows = thrown;
  try {
    relayTarget[kHybridDispatch].call(relayTarget, undefined, 'relay', undefined);
  } finally {
    relayed = undefined;
    relayThrows = false;
  }
}

/** What Node reports for a message it cannot read back: a plain Error (ringport's own error classes stay inside). */
function plainReadError(error: unknown): unknown {
  return error instanceof DecodeError || error instanceof ForeignLost ? new Error(error.message) : error;
}

function emitMessageError(port: PortObject, error: unknown): void {
  const reported = plainReadError(error);
  dispatch(port, 'messageerror', reported, undefined);
}

/** The consumer half of the wake-up protocol: true if it may sleep, false if a record arrived meanwhile. */
function sleep(st: PortState, c: Consumer): boolean {
  const ctrl = st.ctrl();
  if (st.options.spin > 0 && st.started && spinFor(c, st.options.spin)) return false;
  Atomics.store(ctrl, st.stateWord, SLEEPING);
  if (c.tailNow() !== c.head && Atomics.exchange(ctrl, st.stateWord, AWAKE) === SLEEPING) return false;
  consumerSleeps(st);
  if (c.segmentCapacity >= TRIM_CAPACITY && st.trimRequested !== c.view) {
    st.trimRequested = c.view;
    (st.handle as PortHandle).requestTrim();
  }
  return true;
}

/** Polls the ring for up to `micros`; true if something arrived. */
function spinFor(c: Consumer, micros: number): boolean {
  const deadline = performance.now() + micros / 1000;
  do {
    for (let i = 0; i < 64; i++) if (c.tailNow() !== c.head) return true;
  } while (performance.now() < deadline);
  return false;
}

/**
 * Delivers what the incoming ring holds, as Node's MessagePort::OnMessage:
 * at most max(1000, backlog) messages, then it re-arms; a close marker at the
 * head closes the port even when it is not started. Returns true to be called
 * again in a fresh callback scope: per message without runNextTicks, and
 * after a message whose listener faulted (see guardListeners).
 */
function drain(port: PortObject, st: PortState): boolean {
  if (st.transferred || st.closed) return false;
  // Nothing was ever read here: the ring is mapped only once there is something to read.
  if (st.consumer === null && st.options.spin === 0 && (st.handle as PortHandle).sleepIfEmpty()) return false;
  const c = st.in();
  const perMessage = !st.options.batch && runNextTicks === null;
  if (!st.resuming) {
    const backlog = (st.ctrl()[st.publishedWord] - st.consumed) | 0;
    st.budget = backlog > BATCH_LIMIT ? backlog : BATCH_LIMIT;
  }
  if (st.resuming && st.faulted) {
    // A listener's exception was thrown (and handled) as the previous
    // callback closed: as in Node, the rest waits for the next wake-up.
    st.resuming = false;
    st.faulted = false;
    (st.handle as PortHandle).schedule();
    return false;
  }
  st.resuming = false;
  try {
    for (;;) {
      if (st.transferred || st.closed) return false;
      const kind = c.peek();
      if (kind === 0) {
        if (sleep(st, c)) return false;
        continue;
      }
      if (kind === KIND_CLOSE) {
        c.pop();
        beginClose(st);
        continue;
      }
      if (!st.started) return false; // stays awake: start() delivers it
      if (st.budget <= 0) {
        (st.handle as PortHandle).schedule();
        return false;
      }
      let received: Received;
      try {
        received = readMessage(st, c);
      } catch (error) {
        if (error === NOT_YET) return false; // woken when it arrives
        st.budget--;
        st.consumed++;
        c.pop();
        took(st, c.size);
        emitMessageError(port, error);
        (st.handle as PortHandle).schedule();
        return false;
      }
      st.budget--;
      st.consumed++;
      c.pop();
      took(st, c.size);
      listenerThrew = false;
      const { value, ports } = received;
      // The shared result must not keep the message alive.
      received.value = undefined;
      received.ports = NO_RECEIVED_PORTS;
      dispatch(port, 'message', value, ports.length > 0 ? ports : undefined);
      if (!st.options.batch) {
        if (perMessage || listenerThrew) {
          st.faulted = listenerThrew;
          st.resuming = true;
          return true;
        }
        (runNextTicks as () => void)();
      }
    }
  } catch (error) {
    // A nextTick callback threw (a listener's error, rethrown by Node's
    // EventTarget): the rest waits for the next wake-up, as in Node.
    if (st.handle !== null && !st.closed) st.handle.schedule();
    throw error;
  }
}

/**
 * The peer drained a large segment and sleeps: the segment goes back to a
 * small one once this side has posted nothing for SHRINK_DELAY_MS. Shrinking
 * at every pause of a stream would regrow the ring through every size at the
 * next burst, in fresh memory that page-faults on first touch.
 */
function scheduleShrink(st: PortState): void {
  if (st.shrinkTimer !== null || st.producer === null) return;
  const commits = st.producer.commits;
  st.shrinkTimer = setTimeout(() => {
    st.shrinkTimer = null;
    const producer = st.producer;
    if (producer === null || st.detached || st.closed) return;
    if (producer.commits !== commits) scheduleShrink(st);
    else if (producer.shrink()) wakePeer(st);
  }, SHRINK_DELAY_MS);
  // Not a reason to keep the process alive.
  st.shrinkTimer.unref();
}

function onNative(this: PortObject, event: number, argument: number): boolean {
  const st = portState(this);
  if (event === EVENT_CLOSED) {
    emitClose(this, st);
    return false;
  }
  if (event === EVENT_WAKE) {
    if (argument & WAKE_TRIM) scheduleShrink(st);
    if (argument & WAKE_DRAIN) drainWoken(st);
    if (argument & WAKE_MESSAGES) return drain(this, st);
  }
  return false;
}

native.init(function dispatchNative(this: object, event: number, argument: number): boolean {
  return (this as Record<symbol, (event: number, argument: number) => boolean>)[kOnNative](event, argument);
}, threadId);

// ---- lifecycle ----------------------------------------------------------------

function startPort(st: PortState): void {
  if (st.closed || st.transferred) return;
  st.started = true;
  if (!st.closing) (st.handle as PortHandle).schedule();
}

/** The port closes: it leaves the channel and gets 'close' in this iteration's close phase. */
function beginClose(st: PortState): void {
  if (st.detached) return;
  st.closing = true;
  (st.handle as PortHandle).close();
}

function emitClose(port: PortObject, st: PortState): void {
  st.closing = false;
  st.closed = true;
  st.started = false;
  backpressureClosed(st);
  st.releaseViews();
  if (st.handle !== null && !st.transferred) forget(st.handle);
  st.handle = null;
  if (st.refed) {
    st.refed = false;
    native.unref();
  }
  if (!st.moved) port.dispatchEvent(new MessagePortCloseEvent());
}

// ---- public methods -------------------------------------------------------------

function start(this: unknown): void {
  startPort(stateOf(this));
}

function close(this: unknown, callback?: unknown): void {
  const st = stateOf(this);
  if (typeof callback === 'function') (this as PortObject).once('close', callback as () => void);
  beginClose(st);
}

function ref(this: unknown): void {
  const st = stateOf(this);
  if (st.closed || st.refed) return;
  st.refed = true;
  native.ref();
}

function unref(this: unknown): void {
  const st = stateOf(this);
  if (!st.refed) return;
  st.refed = false;
  native.unref();
}

function hasRef(this: unknown): boolean {
  const st = stateOf(this);
  return !st.closed && st.refed;
}

function inspectPort(this: unknown): unknown {
  if (!isPort(this)) return this;
  const st = portState(this);
  // Node: the port's own enumerable properties plus its handle's state.
  return Object.assign(
    Object.create(MessagePort.prototype) as object,
    st.closed ? { active: false } : { active: true, refed: st.refed },
    this,
  );
}

function createEvent(this: PortObject, data: unknown, type: string): Event {
  if (type !== 'message' && type !== 'messageerror') {
    return (eventTargetPrototype as unknown as Record<symbol, (d: unknown, t: string) => Event>)[kCreateEvent].call(
      this,
      data,
      type,
    );
  }
  const ports = this[kCurrentlyReceivingPorts];
  this[kCurrentlyReceivingPorts] = undefined;
  return messageEvent(type, data, ports);
}

// The prototype has Node's own property names with Node's attributes
// (test-worker-message-port.js asserts the exact list).
// Node's postMessage, start, ref and unref are native: no parameters
// declared, no `prototype`, not constructors (method shorthand gives that).
// Its close and hasRef are anonymous JavaScript functions.
const native_ = {
  postMessage(this: unknown): boolean | undefined {
    // eslint-disable-next-line prefer-rest-params
    return postMessage.apply(this, arguments as unknown as [unknown, unknown]);
  },
  start(this: unknown): void {
    start.call(this);
  },
  ref(this: unknown): void {
    ref.call(this);
  },
  unref(this: unknown): void {
    unref.call(this);
  },
};
const anonymous = [
  function (this: unknown, callback?: unknown): void {
    close.call(this, callback);
  },
  function (this: unknown): boolean {
    return hasRef.call(this);
  },
];
const methods: Record<string, unknown> = { ...native_, close: anonymous[0], hasRef: anonymous[1] };
const nodeProto = NodeMessagePort.prototype as object;
// A fresh prototype object, so that its own properties come in Node's order.
(MessagePort as unknown as { prototype: object }).prototype = Object.create(NodeEventTarget.prototype);
for (const name of Object.getOwnPropertyNames(nodeProto)) {
  const descriptor = Object.getOwnPropertyDescriptor(nodeProto, name) as PropertyDescriptor;
  if (name === 'constructor') {
    Object.defineProperty(MessagePort.prototype, name, { ...descriptor, value: MessagePort });
  } else if (name in methods) {
    Object.defineProperty(MessagePort.prototype, name, { ...descriptor, value: methods[name] });
  } else {
    // onmessage / onmessageerror: Node's event-handler accessors work on any NodeEventTarget.
    Object.defineProperty(MessagePort.prototype, name, descriptor);
  }
}
for (const name of Object.keys(methods)) {
  if (!Object.prototype.hasOwnProperty.call(MessagePort.prototype, name)) {
    throw new Error(`ringport: Node's MessagePort has no ${name}`);
  }
}
if (kOnInit !== undefined) {
  Object.defineProperty(MessagePort.prototype, kOnInit, { value: oninit, enumerable: true, writable: false });
}
Object.defineProperties(MessagePort.prototype, {
  [kCreateEvent]: { value: createEvent, configurable: false, writable: false, enumerable: false },
  [kOnNative]: { value: onNative },
  [inspect.custom]: { value: inspectPort },
});

setPortBrand(isPort);
setStateLookup(stateOf);

// ---- module functions used by index.ts --------------------------------------------

export function receiveMessage(port: PortObject): { message: unknown } | undefined {
  const st = portState(port);
  if (st.transferred || st.closed) return undefined;
  const c = st.in();
  const kind = c.peek();
  if (kind === 0) {
    if (!sleep(st, c)) (st.handle as PortHandle).schedule();
    return undefined;
  }
  if (kind === KIND_CLOSE) {
    c.pop();
    beginClose(st);
    return undefined;
  }
  let received: Received;
  try {
    received = readMessage(st, c);
  } catch (error) {
    // Not arrived yet from another thread: nothing can be taken synchronously.
    if (error === NOT_YET) return undefined;
    c.pop();
    st.consumed++;
    took(st, c.size);
    // Node throws a plain Error for a message it cannot read back.
    throw plainReadError(error);
  }
  c.pop();
  st.consumed++;
  took(st, c.size);
  if (c.peek() === 0 && !sleep(st, c)) (st.handle as PortHandle).schedule();
  const message = received.value;
  received.value = undefined;
  received.ports = NO_RECEIVED_PORTS;
  return { message };
}

/**
 * receiveMessage(), blocking up to `timeout` ms (Infinity: no limit) while
 * nothing is queued. Ends early, with undefined, when the peer has closed.
 */
export function waitForMessage(port: PortObject, timeout: number): { message: unknown } | undefined {
  const st = portState(port);
  const deadline = performance.now() + timeout;
  for (;;) {
    const result = receiveMessage(port);
    if (result !== undefined || st.transferred || st.closed || st.closing || st.handle === null) return result;
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    // With the spin option, poll before blocking: awake, so that a fast reply
    // costs the sender no wake-up. Both ways out (receiveMessage finding the
    // ring empty, waitIncoming) go back to sleep by the protocol.
    if (st.options.spin > 0) {
      Atomics.store(st.ctrl(), st.stateWord, AWAKE);
      if (spinFor(st.in(), Math.min(st.options.spin, left * 1000))) continue;
    }
    // Readable (or a spurious return): look again; else the time is up.
    if (!st.handle.waitIncoming(left, noop) && performance.now() >= deadline) return undefined;
  }
}

function noop(): void {}

export { isPort };

/** Parks a port for detachPort(): returns the token attachPort() takes. */
export function detach(port: unknown): number {
  if (!isPort(port)) {
    throw invalidArgType('The "port" argument must be a ringport MessagePort instance');
  }
  const st = portState(port);
  if (st.detached) throw dataCloneError('MessagePort in transfer list is already detached');
  const key = st.key(false);
  const token = handOff(st, 'parked').detach();
  departed(key);
  return token;
}

/** Closing, closed or handed on: Node's moveMessagePortToContext calls that a closed port. */
export function isDetached(port: MessagePort): boolean {
  return portState(port as PortObject).detached;
}

/** Parks a port for moveMessagePortToContext (the caller checked it is open): returns the token native.attach() takes. */
export function detachMoved(port: MessagePort): number {
  portState(port as PortObject).moved = true;
  return detach(port);
}

export function setOptions(port: unknown, options: DeliveryOptions): void {
  if (!isPort(port)) throw invalidArgType('The "port" argument must be a ringport MessagePort instance');
  const st = portState(port);
  st.options = resolveOptions(options, st.options);
  if (!st.detached) Atomics.store(st.ctrl(), st.optionsWord, packOptions(st.options));
  const mark = st.options.highWaterMark;
  if (mark === mark) enableBackpressure(port, st, mark);
}

export function getOptions(port: unknown): ResolvedDeliveryOptions {
  if (!isPort(port)) throw invalidArgType('The "port" argument must be a ringport MessagePort instance');
  const { batch, spin, highWaterMark } = portState(port).options;
  // highWaterMark only for a port that has one (Node's surface otherwise).
  return highWaterMark === highWaterMark ? { batch, spin, highWaterMark } : { batch, spin };
}
