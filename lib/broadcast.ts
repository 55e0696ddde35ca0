// BroadcastChannel: node:worker_threads' API over ringport rings.
//
// The members of a name form a mesh (native/broadcast.h): each pair shares
// one ringport channel, a "pipe". Posting encodes the message once, takes a
// number from a process-wide counter, and copies the bytes into the pipe to
// every other member. A member reads all its pipes and delivers in number
// order, so messages from several senders keep one order, as they do in
// Node's single queue per channel (see nextPipe for why that order is also
// causal). Joining is synchronous; the members already there adopt their
// ends of the new pipes in their own threads, woken by a doorbell, and a
// sender adopts before each post if its generation word changed.
import { inspect } from 'node:util';
import { BroadcastChannel as NodeBroadcastChannel } from 'node:worker_threads';

import { layout, native, type PortHandle } from './binding';
import { Decoder, DecodeError } from './codec/decode';
import { Encoder, type EncodeContext } from './codec/encode';
import { FOREIGN_TRAILER, PayloadFlags } from './codec/format';
import { readPayloadHeader, writePayloadHeader } from './codec/message';
import { nodeJsError, missingTransferable } from './errors';
import { messageEvent } from './events';
import { discardForeign, ForeignLost, forget, isForeign, portKey, sendForeign, takeForeign } from './foreign';
import { eventTargetPrototype, runNextTicks } from './node-internals';
import { isPort } from './port';
import { AWAKE, Consumer, KIND_CLOSE, Producer, SLEEPING } from './ring';

/** Membership of one BroadcastChannel (native/broadcast_addon.cc). */
interface MemberHandle {
  /** The member's generation word (Int32Array element 0), bumped when a pipe is parked for it. */
  generation(): ArrayBuffer;
  /** The pipes parked for this member since the last call, attached to this thread. */
  adopt(): PortHandle[];
  /** Leaves the name's group (idempotent); adopted pipes are closed by their handles. */
  leave(): void;
}

interface BroadcastBinding {
  broadcastJoin(name: string): { member: MemberHandle; doorbell: PortHandle; pipes: PortHandle[] };
  /** The process-wide message counter (Int32Array element 0). */
  broadcastSequence(): ArrayBuffer;
}

const binding = native as unknown as BroadcastBinding;
const sequence = new Int32Array(binding.broadcastSequence(), 0, 1);

const EVENT_WAKE = layout.eventWake;
const WAKE_MESSAGES = layout.wakeMessages;
const MAX_PAYLOAD = layout.maxPayload;
// Node's anti-starvation rule: at most max(1000, backlog) messages per wake-up.
const BATCH_LIMIT = 1000;
/** Bytes before the payload of a broadcast record: the message's number (Int32) and padding. */
const SEQ_BYTES = 8;
const kOnNative = Symbol.for('ringport.onNative');

/** One end of the pipe between this member and one other. */
class Pipe {
  readonly ctrl: Int32Array;
  readonly stateWord: number;
  readonly peerStateWord: number;
  readonly peerGoneWord: number;
  readonly publishedWord: number;
  readonly peerPublishedWord: number;
  readonly consumer: Consumer;
  /** Messages taken from this pipe (with publishedWord: the backlog). */
  consumed = 0;
  /** Key of this end's values carried beside the ring (foreign.ts). */
  readonly key: string;
  /** Key of the peer's end. */
  readonly peerKey: string;
  private producer: Producer | null = null;
  closed = false;

  constructor(readonly handle: PortHandle) {
    const side = handle.side;
    this.ctrl = new Int32Array(handle.control());
    this.stateWord = side === 0 ? layout.stateWord0 : layout.stateWord1;
    this.peerStateWord = side === 0 ? layout.stateWord1 : layout.stateWord0;
    this.peerGoneWord = side === 0 ? layout.goneWord1 : layout.goneWord0;
    this.publishedWord = side === 0 ? layout.publishedWord0 : layout.publishedWord1;
    this.peerPublishedWord = side === 0 ? layout.publishedWord1 : layout.publishedWord0;
    this.key = portKey(handle.channelId, side);
    this.peerKey = portKey(handle.channelId, side ^ 1);
    this.consumer = new Consumer(handle);
  }

  out(): Producer {
    if (this.producer === null) this.producer = new Producer(this.handle);
    return this.producer;
  }

  /** Whether the other member has left (closed, or its thread exited). */
  peerGone(): boolean {
    return Atomics.load(this.ctrl, this.peerGoneWord) !== 0;
  }

  /** Leaves the pipe: the peer reads a close marker after everything sent here. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.producer !== null) this.producer.release();
    this.consumer.release();
    this.handle.close();
    forget(this.handle);
  }
}

class State {
  readonly name: string;
  readonly member: MemberHandle;
  readonly doorbell: PortHandle;
  readonly generation: Int32Array;
  /** The generation whose pipes were adopted. */
  seen = 0;
  pipes: Pipe[] = [];
  /** Some pipe closed since pipes was last compacted. */
  dirty = false;
  refed = false;
  closed = false;
  /** Messages this wake-up may still deliver. */
  budget = 0;
  /** drain() returned to be called again for the next message of the same wake-up. */
  resuming = false;

  constructor(name: string, owner: object) {
    this.name = name;
    const joined = binding.broadcastJoin(name);
    this.member = joined.member;
    this.doorbell = joined.doorbell;
    this.generation = new Int32Array(this.member.generation(), 0, 1);
    // The doorbell and every pipe wake this channel, with it as their async resource.
    this.doorbell.bind(owner);
    for (const handle of joined.pipes) this.add(handle, owner);
  }

  add(handle: PortHandle, owner: object): void {
    handle.bind(owner);
    this.pipes.push(new Pipe(handle));
  }

  /** Attaches the pipes other members opened to this one (a cheap check when none did). */
  adopt(owner: object): void {
    const generation = Atomics.load(this.generation, 0);
    if (generation === this.seen) return;
    this.seen = generation;
    const handles = this.member.adopt();
    for (const handle of handles) this.add(handle, owner);
    // What was sent on them before they were attached woke nobody.
    if (handles.length > 0) this.doorbell.schedule();
  }

  compact(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.pipes = this.pipes.filter((p) => !p.closed);
  }
}

// ---- sending ----------------------------------------------------------------

const NO_PORTS: readonly object[] = [];

class BroadcastContext implements EncodeContext {
  readonly ports = NO_PORTS;
  values: unknown[] = [];
  isPort(value: object): boolean {
    return isPort(value);
  }
  missingPort(): Error {
    return missingTransferable();
  }
  isForeign(value: object): boolean {
    return isForeign(value);
  }
  foreign(value: object): number {
    return this.values.push(value) - 1;
  }
  movedBuffer(): number {
    return -1;
  }
  isTransferred(): boolean {
    return false;
  }
}

const encoders: Encoder[] = [];
const contexts: BroadcastContext[] = [];
const SCRATCH = new Uint8Array(0);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

function post(st: State, owner: object, value: unknown): void {
  st.adopt(owner);
  const encoder = encoders.pop() ?? new Encoder();
  const context = contexts.pop() ?? new BroadcastContext();
  context.values = [];
  try {
    // Encoded once, into the encoder's own buffer, then copied to each pipe.
    encoder.begin(SCRATCH, SCRATCH_VIEW, 0, 0, context);
    encoder.reserve(SEQ_BYTES);
    writePayloadHeader(encoder, 0);
    encoder.writeValue(value);
    const values = context.values;
    const size = encoder.size + (values.length > 0 ? FOREIGN_TRAILER : 0);
    if (size - SEQ_BYTES > MAX_PAYLOAD) throw new RangeError('Message is too large to be sent');
    const bytes = encoder.u8.subarray(encoder.start, encoder.start + encoder.size);
    let sent = false;
    const seq = Atomics.add(sequence, 0, 1);
    const pipes = st.pipes;
    for (let i = 0; i < pipes.length; i++) {
      const pipe = pipes[i];
      if (pipe.closed || pipe.peerGone()) continue;
      // Node's serializer carries what the ring cannot, per reader; its
      // errors come from the first one, before anything is published.
      const ref = values.length > 0 ? sendForeign(pipe.peerKey, pipe.handle.peerThread(), values, []) : null;
      const producer = pipe.out();
      const at = producer.reserveSmall(size);
      const u8 = producer.bytes;
      const dv = producer.data;
      u8.set(bytes, at);
      dv.setInt32(at, seq, true);
      if (ref !== null) {
        const t = at + bytes.length;
        dv.setFloat64(t, ref.origin, true);
        dv.setFloat64(t + 8, ref.seq, true);
        dv.setFloat64(t + 16, ref.destination, true);
        dv.setUint32(t + 24, values.length, true);
        dv.setUint32(t + 28, 0, true);
        dv.setUint32(t + 32, 0, true);
        u8[at + SEQ_BYTES] |= PayloadFlags.HasForeign;
      }
      producer.publish(at, size);
      // The backlog count (Node's max(1000, backlog)), as MessagePort's.
      pipe.ctrl[pipe.peerPublishedWord] = (pipe.ctrl[pipe.peerPublishedWord] + 1) | 0;
      wakePeer(pipe);
      sent = true;
    }
    // Nobody to read it: still checked as Node's serializer would.
    if (!sent && values.length > 0) discardForeign(values, []);
  } finally {
    encoder.finish();
    encoders.push(encoder);
    context.values = [];
    contexts.push(context);
  }
}

/** The producer half of the wake-up protocol (native/port.h). */
function wakePeer(pipe: Pipe): void {
  const ctrl = pipe.ctrl;
  if (Atomics.load(ctrl, pipe.peerStateWord) === SLEEPING && Atomics.exchange(ctrl, pipe.peerStateWord, AWAKE) === SLEEPING) {
    pipe.handle.wakePeer();
  }
}

// ---- receiving --------------------------------------------------------------

const decoder = new Decoder();
const NOT_YET = Symbol('not yet');

/** Kind of the pipe's next record (0 if none); a close marker closes the pipe. */
function peekPipe(st: State, pipe: Pipe): number {
  if (pipe.closed) return 0;
  const kind = pipe.consumer.peek();
  if (kind === KIND_CLOSE) {
    pipe.consumer.pop();
    pipe.close();
    st.dirty = true;
    return 0;
  }
  return kind;
}

/**
 * The pipe whose next message has the lowest number. A message m2 read
 * here may have been posted after m1 (in any thread) sent to another pipe;
 * acquiring m2's record then makes m1's visible too, and m1 got the lower
 * number (the counter's order follows happens-before). So pipes that looked
 * empty before a record was found are looked at once more: causally
 * ordered messages are delivered in order, concurrent ones in number order.
 */
function nextPipe(st: State): Pipe | null {
  const pipes = st.pipes;
  let best: Pipe | null = null;
  let bestSeq = 0;
  let empty = false;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < pipes.length; i++) {
      const pipe = pipes[i];
      if (round === 1 && pipe === best) continue;
      if (peekPipe(st, pipe) === 0) {
        empty = true;
        continue;
      }
      const c = pipe.consumer;
      const seq = c.dv.getInt32(c.pos, true);
      if (best === null || ((seq - bestSeq) | 0) < 0) {
        best = pipe;
        bestSeq = seq;
      }
    }
    if (best === null || !empty || pipes.length === 1) break;
  }
  st.compact();
  return best;
}

/** The consumer half of the wake-up protocol over every pipe: true if all may sleep. */
function sleepAll(st: State): boolean {
  const pipes = st.pipes;
  for (let i = 0; i < pipes.length; i++) Atomics.store(pipes[i].ctrl, pipes[i].stateWord, SLEEPING);
  for (let i = 0; i < pipes.length; i++) {
    const pipe = pipes[i];
    if (pipe.consumer.tailNow() !== pipe.consumer.head && Atomics.exchange(pipe.ctrl, pipe.stateWord, AWAKE) === SLEEPING) {
      return false;
    }
  }
  return true;
}

function readMessage(st: State, pipe: Pipe): unknown {
  const c = pipe.consumer;
  const header = readPayloadHeader(c.u8, c.dv, c.pos + SEQ_BYTES, c.pos + c.size);
  if (header.tokens.length !== 0) throw new DecodeError('Unable to deserialize cloned data.');
  let foreign: unknown[] | undefined;
  if (header.foreign !== null) {
    const items = takeForeign(pipe.key, header.foreign, () => {
      if (!pipe.closed && !st.closed) pipe.handle.schedule();
    });
    if (items === undefined) throw NOT_YET;
    foreign = items.slice(0, header.foreign.values);
  }
  return decoder.decode(c.u8, c.dv, header.valueStart, header.valueEnd, NO_PORTS, foreign);
}

/**
 * Delivers what the pipes hold, as Node's MessagePort::OnMessage: at most
 * max(1000, backlog) messages per wake-up, process.nextTick callbacks and
 * microtasks run between two messages (Node's own runNextTicks; where this
 * Node has none, one message per call: returning true makes the native side
 * close the callback scope, which runs them, and call again).
 */
function drain(channel: BroadcastChannel, st: State): boolean {
  if (st.closed) return false;
  st.adopt(channel);
  if (!st.resuming) {
    let backlog = 0;
    for (const pipe of st.pipes) backlog += Math.max(0, (pipe.ctrl[pipe.publishedWord] - pipe.consumed) | 0);
    st.budget = backlog > BATCH_LIMIT ? backlog : BATCH_LIMIT;
  }
  st.resuming = false;
  try {
    for (;;) {
      if (st.closed) return false;
      const pipe = nextPipe(st);
      if (pipe === null) {
        if (sleepAll(st)) return false;
        continue;
      }
      if (st.budget <= 0) {
        st.doorbell.schedule();
        return false;
      }
      let value: unknown;
      let failed = false;
      try {
        value = readMessage(st, pipe);
      } catch (error) {
        if (error === NOT_YET) return false; // woken when its values arrive
        failed = true;
        value = error instanceof DecodeError || error instanceof ForeignLost ? new Error(error.message) : error;
      }
      pipe.consumer.pop();
      pipe.consumed++;
      st.budget--;
      channel.dispatchEvent(messageEvent(failed ? 'messageerror' : 'message', value, undefined));
      if (runNextTicks === null) {
        st.resuming = true;
        return true;
      }
      runNextTicks();
    }
  } catch (error) {
    // A nextTick callback threw (a listener's error, rethrown by Node's
    // EventTarget): reported by the native side as uncaught; the rest waits
    // for the next wake-up, as in Node.
    if (!st.closed) st.doorbell.schedule();
    throw error;
  }
}

// ---- the class ----------------------------------------------------------------

function invalidThis(): Error {
  return nodeJsError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type BroadcastChannel');
}

const EventTargetBase = eventTargetPrototype.constructor as typeof EventTarget;

/** The state of a BroadcastChannel; throws Node's ERR_INVALID_THIS for anything else. */
let stateOf: (channel: unknown) => State;

/**
 * node:worker_threads' BroadcastChannel: messages go to every other open
 * channel of the same name in the process, in any thread, never back to the
 * sender.
 */
export class BroadcastChannel extends EventTargetBase {
  #state: State | undefined;

  constructor(name: unknown) {
    if (arguments.length === 0) {
      throw nodeJsError(TypeError, 'ERR_MISSING_ARGS', 'The "name" argument must be specified');
    }
    super();
    const text = `${name as string}`;
    this.#state = new State(text, this);
    // Open channels keep the event loop alive, as Node's do.
    this.#state.refed = true;
    native.ref();
  }

  static {
    stateOf = (channel: unknown): State => {
      if (typeof channel !== 'object' || channel === null || !(#state in channel)) throw invalidThis();
      return (channel as BroadcastChannel).#state as State;
    };
  }

  get name(): string {
    return stateOf(this).name;
  }

  close(): void {
    const st = stateOf(this);
    if (st.closed) return;
    st.closed = true;
    st.member.leave();
    for (const pipe of st.pipes) pipe.close();
    st.pipes = [];
    st.doorbell.close();
    if (st.refed) {
      st.refed = false;
      native.unref();
    }
  }

  postMessage(message: unknown): void {
    const st = stateOf(this);
    if (arguments.length === 0) {
      throw nodeJsError(TypeError, 'ERR_MISSING_ARGS', 'The "message" argument must be specified');
    }
    if (st.closed) throw new DOMException('BroadcastChannel is closed.', 'InvalidStateError');
    post(st, this, message);
  }

  ref(): this {
    const st = stateOf(this);
    if (!st.closed && !st.refed) {
      st.refed = true;
      native.ref();
    }
    return this;
  }

  unref(): this {
    const st = stateOf(this);
    if (!st.closed && st.refed) {
      st.refed = false;
      native.unref();
    }
    return this;
  }

  declare onmessage: ((this: BroadcastChannel, event: MessageEvent) => unknown) | null;
  declare onmessageerror: ((this: BroadcastChannel, event: MessageEvent) => unknown) | null;

}

// The prototype as Node's: the same own properties, in the same order, with
// the same attributes; onmessage/onmessageerror are Node's own accessors
// (they work on any EventTarget).
const proto = BroadcastChannel.prototype as unknown as Record<PropertyKey, unknown>;
const nodeProto = NodeBroadcastChannel.prototype as object;
for (const key of Object.getOwnPropertyNames(nodeProto)) {
  const theirs = Object.getOwnPropertyDescriptor(nodeProto, key) as PropertyDescriptor;
  if (key === 'onmessage' || key === 'onmessageerror') {
    Object.defineProperty(proto, key, theirs);
    continue;
  }
  const ours = Object.getOwnPropertyDescriptor(proto, key);
  if (ours === undefined) throw new Error(`ringport: Node's BroadcastChannel has ${key}, ringport's does not`);
  Object.defineProperty(proto, key, { ...ours, enumerable: theirs.enumerable, configurable: theirs.configurable });
}
Object.defineProperty(proto, inspect.custom, {
  value: function (this: unknown, depth: number, options: { depth?: number | null }): string {
    const st = stateOf(this);
    if (depth < 0) return 'BroadcastChannel';
    const opts = { ...options, depth: options.depth == null ? null : options.depth - 1 };
    return `BroadcastChannel ${inspect({ name: st.name, active: !st.closed }, opts)}`;
  },
  writable: true,
  configurable: true,
});
Object.defineProperty(proto, kOnNative, {
  // Called through port.ts's dispatch function for the doorbell and the pipes.
  value(this: BroadcastChannel, event: number, argument: number): boolean {
    if (event === EVENT_WAKE && (argument & WAKE_MESSAGES) !== 0) return drain(this, stateOf(this));
    return false;
  },
});
