// Values only Node's own MessageChannel can carry — SharedArrayBuffers,
// WebAssembly objects, Node's MessagePorts and host objects (Blob, KeyObject,
// FileHandle, streams…), and large transferred ArrayBuffers, which Node moves
// without copying — travel beside the ring: the ring record says where to
// find them, and Node's serializer carries them with Node's semantics.
//
// Where they go: a Node MessagePort "link" per pair of threads, set up once
// with postMessageToThread() (and one from the thread to itself for a reader
// on the same thread). Each ringport message's items are one Node message on
// the link to the thread that owns the reading port, numbered by its place
// there and enqueued before the ring record is published, so the reader
// takes them synchronously, and one that Node cannot deserialize is still
// known by its number. Items are keyed by (origin thread, destination
// thread, place on their link) and filed under the reading port.
//
// Ports move, and threads exit: items must never depend on a thread that no
// longer reads their port. The main thread, which lives as long as the
// process, is their custodian: items for a reader in flight go to it; a port
// that moves by detachPort() leaves its waiting items with it; a thread that
// finds items for a port it no longer owns (they arrived after the port
// left) forwards them to it. A port that moves inside a ringport message
// takes its waiting items along. A reader that does not find its items in
// its own thread asks the custodian, which answers when it has them.
import { Blob } from 'node:buffer';
import { runInThisContext } from 'node:vm';
import { ReadableStream } from 'node:stream/web';
import { types } from 'node:util';
import * as wt from 'node:worker_threads';

import { native } from './binding';
import { NodeMessagePort } from './node-internals';

const THREAD = wt.threadId;
const MARK = 'ringport:side';
/** The thread that keeps items whose port has no owner: the main thread. */
const CUSTODIAN = 0;
/**
 * How long the custodian waits for items after their last holder said it
 * has none (or is gone) before the reader gets 'messageerror': items parked
 * by another thread may still be on their way.
 */
const LOSS_GRACE_MS = 2000;
/** How many ports that left or closed a thread it remembers, to hand over or drop items arriving for them. */
const PORT_MEMORY = 4096;

/** Where the items of one message are. */
export interface ForeignRef {
  /** Thread that sent them. */
  origin: number;
  /** Their place among the messages of the link from origin to destination. */
  seq: number;
  /** Thread they were delivered to: the reader's owner then, or the custodian (none, or no link yet). */
  destination: number;
}

/** The items of one message. */
type Items = { values: unknown[]; transfer: unknown[] };

/** Where a message's items are bound: origin thread, place on the link, reading port. */
interface ItemsKey {
  o: number;
  s: number;
  p: string;
}

/**
 * One Node message on a link: the items of one ringport message and the
 * port they are for (their origin and place are the link's own).
 */
interface ItemsMessage {
  p: string;
  v?: unknown[];
  t?: unknown[];
}

/** One end of a link: Node messages sent and read through it, counted to number them. */
interface LinkEnd {
  port: wt.MessagePort;
  sent: number;
  read: number;
  /**
   * Set to 1 by the thread at the other end when it has its end: until then
   * the link is only in an offer, which Node drops if the thread exits first.
   */
  ready: Int32Array;
}

interface LinkOffer {
  [MARK]: 'link';
  from: number;
  port: wt.MessagePort;
  ready: Int32Array;
}

/** A reader asks the custodian for the items of one message. */
interface Request {
  [MARK]: 'request';
  from: number;
  o: number;
  /** The thread the items were delivered to (the reading port's owner then). */
  d: number;
  s: number;
  p: string;
}

/** Items that left a thread without their port's owner: for the custodian. */
interface Park {
  [MARK]: 'park';
  p: string;
  k: string[];
  e: Items[];
}

/** The custodian asks a thread to hand over items for ports read elsewhere now. */
interface Sweep {
  [MARK]: 'sweep';
  ports: string[];
}

/** The answer to a Sweep, after the items it found (same path, so in order). */
interface Swept {
  [MARK]: 'swept';
  ports: string[];
  from: number;
}

/** A request the custodian cannot answer yet. */
interface Pending {
  /** The latest asker's. */
  request: Request;
  /** When the thread that received the items said it has none left, or was found gone. */
  holderDoneAt: number;
}

/** The answer to a Request: delivered as an event, so that the waiting reader wakes. */
interface Reply extends ItemsMessage, ItemsKey {
  [MARK]: 'reply';
  d: number;
  missing?: true;
}

/** The last PORT_MEMORY port keys added, forgetting the oldest in O(1). */
class RecentPorts {
  readonly ports = new Set<string>();
  private readonly order: string[] = [];
  private next = 0;

  get size(): number {
    return this.ports.size;
  }

  has(port: string): boolean {
    return this.ports.has(port);
  }

  add(port: string): void {
    if (this.ports.has(port)) return;
    if (this.order.length < PORT_MEMORY) {
      this.order.push(port);
    } else {
      this.ports.delete(this.order[this.next]);
      this.order[this.next] = port;
      this.next = (this.next + 1) % PORT_MEMORY;
    }
    this.ports.add(port);
  }

  /** Its slot in the order stays until reused (a key deleted and added again may be forgotten early). */
  delete(port: string): void {
    this.ports.delete(port);
  }
}

/** Per-thread state, shared by every copy of the library loaded in the thread. */
interface Hub {
  /** Link ends by the thread at the other end, all read from. */
  links: Map<number, LinkEnd[]>;
  /** The link end to send on, by the thread at the other end. */
  outgoing: Map<number, LinkEnd>;
  /** Items by reading port key, then by item key; null marks items that cannot be had. */
  stash: Map<string, Map<string, Items | null>>;
  /** What Node's deserializer threw for items read here, by item key (the port is not known). */
  failed: Map<string, unknown>;
  /** Item keys asked from another thread and not answered yet, with the port that asked. */
  requested: Map<string, string>;
  /** Called when something arrives that a waiting port may need. */
  waiting: Set<() => void>;
  /** The sending end of this thread's link with itself (loopback()). */
  loopback: LinkEnd | null;
  /** Keys of ports that recently left this thread, oldest first: items arriving for them go to the custodian. */
  left: RecentPorts;
  /** Keys of ports recently closed here, oldest first: items still arriving for them are dropped. */
  closed: RecentPorts;
  /** Custodian only: requests waiting for their items, by item key. */
  pending: Map<string, Pending>;
  /** Custodian only: threads asked to sweep and not answered yet. */
  sweeping: Set<string>;
  /** Custodian only: the timer that gives up on lost items. */
  lossTimer: ReturnType<typeof setTimeout> | null;
}

const shared = native.shared();
const hub: Hub =
  (shared.foreignHub as Hub | undefined) ??
  (shared.foreignHub = {
    links: new Map(),
    outgoing: new Map(),
    stash: new Map(),
    failed: new Map(),
    requested: new Map(),
    waiting: new Set(),
    loopback: null,
    left: new RecentPorts(),
    closed: new RecentPorts(),
    pending: new Map(),
    sweeping: new Set(),
    lossTimer: null,
  } satisfies Hub);
if (shared.foreignListener === undefined) {
  shared.foreignListener = true;
  // The process of the main context: code loaded in a vm context (a test
  // runner's sandbox) may see a stand-in that never gets 'workerMessage'.
  const realProcess = runInThisContext('process') as NodeJS.Process;
  realProcess.on('workerMessage', onWorkerMessage);
  // Items that arrived for ports this thread passed on stay readable when it
  // ends on its own (a terminated thread runs no JavaScript).
  if (THREAD !== CUSTODIAN) {
    realProcess.on('exit', () => {
      readLinks();
      handOverStrays(hub.left.ports);
    });
  }
}

function itemKey(origin: number, destination: number, seq: number): string {
  return `${origin}>${destination}:${seq}`;
}

/** A port's end of its channel (a PortHandle). */
export interface PortEnd {
  readonly channelId: number;
  readonly side: number;
}

/** The key of the port that reads a channel side. */
export function portKey(channelId: number, side: number): string {
  return `${channelId}:${side}`;
}

function put(port: string, key: string, entry: Items | null): void {
  let items = hub.stash.get(port);
  if (items === undefined) hub.stash.set(port, (items = new Map()));
  items.set(key, entry);
}

function notify(): void {
  if (hub.waiting.size === 0) return;
  const callbacks = [...hub.waiting];
  hub.waiting.clear();
  for (const callback of callbacks) callback();
}

const READY = new Int32Array([1]);

function linkEnd(port: wt.MessagePort, ready: Int32Array): LinkEnd {
  return { port, sent: 0, read: 0, ready };
}

function isReady(end: LinkEnd): boolean {
  // Set once by the far end; a stale 0 only sends items the longer way.
  return Atomics.load(end.ready, 0) === 1;
}

function addEnd(thread: number, end: LinkEnd): void {
  const ends = hub.links.get(thread);
  if (ends === undefined) hub.links.set(thread, [end]);
  else ends.push(end);
}

/** The end to send on to `thread`; offered to it the first time. */
function link(thread: number): LinkEnd {
  const existing = hub.outgoing.get(thread);
  if (existing !== undefined) return existing;
  const { port1, port2 } = new wt.MessageChannel();
  const end = linkEnd(port1, new Int32Array(new SharedArrayBuffer(4)));
  hub.outgoing.set(thread, end);
  addEnd(thread, end);
  const offer: LinkOffer = { [MARK]: 'link', from: THREAD, port: port2, ready: end.ready };
  wt.postMessageToThread(thread, offer, [port2]).catch(() => {
    hub.outgoing.delete(thread);
    const ends = hub.links.get(thread);
    if (ends !== undefined) ends.splice(ends.indexOf(end), 1);
    port1.close();
  });
  return end;
}

/**
 * Reads link messages into the stash until `port` has `key` (or, with no
 * key, until the links are empty). Links are FIFO and the reader asks in
 * ring order, so this usually reads exactly one message: reading further
 * would keep many large buffers alive at once.
 */
function readLinks(port?: string, key?: string): void {
  let progress = true;
  while (progress) {
    progress = false;
    for (const [origin, ends] of hub.links) {
      for (const end of ends) {
        let message: ItemsMessage;
        try {
          const got = wt.receiveMessageOnPort(end.port);
          if (got === undefined) continue;
          message = got.message as ItemsMessage;
        } catch (error) {
          // What Node's receiver would report as 'messageerror'.
          const failedKey = itemKey(origin, THREAD, end.read++);
          hub.failed.set(failedKey, error);
          hub.requested.delete(failedKey);
          if (failedKey === key) return;
          progress = true;
          continue;
        }
        progress = true;
        const itemsKey = itemKey(origin, THREAD, end.read++);
        if ((message as { [MARK]?: unknown })[MARK] !== undefined) {
          control(message as unknown as Park | Swept);
          continue;
        }
        // A closed port reads nothing more: Node drops what arrives for it.
        if (!hub.closed.has(message.p)) put(message.p, itemsKey, { values: message.v as unknown[], transfer: message.t as unknown[] });
        hub.requested.delete(itemsKey);
        if (message.p === port && itemsKey === key) return;
      }
    }
  }
}

/** The custodian reads what other threads hand over on their links to it. */
function control(message: Park | Swept): void {
  if (message[MARK] === 'park') {
    for (let i = 0; i < message.k.length; i++) put(message.p, message.k[i], message.e[i]);
  } else {
    holderDone(message.from, message.ports);
  }
}

function onWorkerMessage(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const message = value as { [MARK]?: unknown };
  switch (message[MARK]) {
    case 'link': {
      const offer = message as LinkOffer;
      const end = linkEnd(offer.port, READY);
      addEnd(offer.from, end);
      // Its far end is in place: this thread may send on it too.
      if (!hub.outgoing.has(offer.from)) hub.outgoing.set(offer.from, end);
      Atomics.store(offer.ready, 0, 1);
      // It may bring items for a port that has left this thread since.
      if (THREAD !== CUSTODIAN && hub.left.size !== 0) {
        readLinks();
        handOverStrays(hub.left.ports);
      }
      break;
    }
    case 'request':
      serve(message as Request);
      break;
    case 'reply': {
      const reply = message as Reply;
      const key = itemKey(reply.o, reply.d, reply.s);
      put(reply.p, key, reply.missing ? null : { values: reply.v as unknown[], transfer: reply.t as unknown[] });
      hub.requested.delete(key);
      // Asked for by a port that has left this thread since the request.
      if (hub.left.has(reply.p)) handOverStrays(hub.left.ports);
      break;
    }
    case 'poke':
      break;
    case 'sweep':
      readLinks();
      handOverStrays((message as Sweep).ports);
      toCustodian({ [MARK]: 'swept', from: THREAD, ports: (message as Sweep).ports }, []);
      return;
    default:
      return;
  }
  if (THREAD === CUSTODIAN) answerPending();
  notify();
}

// ---- the custodian --------------------------------------------------------------

/** The custodian answers a reader in another thread, now or when the items arrive. */
function serve(request: Request): void {
  readLinks();
  const key = itemKey(request.o, request.d, request.s);
  if (!answer(request, key)) awaitItems(request, key);
}

/** Answers `request` if its items are here (or known lost); false if not. */
function answer(request: Request, key: string): boolean {
  const items = hub.stash.get(request.p);
  const entry = items?.get(key);
  if (entry === undefined) return false;
  if (request.from === THREAD) return true; // a reader in this thread takes them itself
  items?.delete(key);
  hub.failed.delete(key);
  reply(request, entry);
  return true;
}

function reply(request: Request, entry: Items | null): void {
  const message: Reply = { [MARK]: 'reply', o: request.o, d: request.d, s: request.s, p: request.p };
  let transfer: unknown[] = [];
  if (entry === null) {
    message.missing = true;
  } else {
    message.v = entry.values;
    message.t = transfer = entry.transfer;
  }
  // If the asker is gone, so is the port that wanted these.
  wt.postMessageToThread(request.from, message, transfer as wt.Transferable[]).catch(() => {});
}

/** Waits for items not here yet: asks the thread they went to for its strays. */
function awaitItems(request: Request, key: string): void {
  const waiting = hub.pending.get(key);
  if (waiting !== undefined) {
    // Asked again from where the port is now (the first asker passed it on
    // without reading the message): the answer goes there.
    waiting.request = request;
    return;
  }
  const holder = request.d;
  hub.pending.set(key, { request, holderDoneAt: holder === CUSTODIAN ? Date.now() : 0 });
  const sweep = `${holder}/${request.p}`;
  if (holder !== CUSTODIAN && !hub.sweeping.has(sweep)) {
    hub.sweeping.add(sweep);
    // Its reader is elsewhere now: whatever that thread holds for it comes here.
    const ports = [request.p];
    wt.postMessageToThread(holder, { [MARK]: 'sweep', ports } satisfies Sweep).catch(() => {
      // Gone: what it held is lost, unless it handed it over before.
      holderDone(holder, ports);
    });
  }
  if (hub.lossTimer === null) {
    hub.lossTimer = setTimeout(giveUpOnLost, LOSS_GRACE_MS);
    hub.lossTimer.unref();
  }
}

function holderDone(thread: number, ports: string[]): void {
  const now = Date.now();
  for (const port of ports) hub.sweeping.delete(`${thread}/${port}`);
  for (const pending of hub.pending.values()) {
    const { d, p } = pending.request;
    if (d === thread && pending.holderDoneAt === 0 && ports.includes(p)) pending.holderDoneAt = now;
  }
}

/** Answers every waiting request whose items have arrived. */
function answerPending(): void {
  if (hub.pending.size === 0) return;
  readLinks();
  for (const [key, pending] of hub.pending) {
    if (answer(pending.request, key)) hub.pending.delete(key);
  }
}

/**
 * Items whose holder has none left and that did not arrive within the grace
 * time are lost with a thread that exited: their reader gets 'messageerror'.
 * Checked after one more turn of the event loop, so that items queued while
 * this thread was busy are read first.
 */
function giveUpOnLost(): void {
  hub.lossTimer = null;
  setImmediate(() => {
    answerPending();
    const now = Date.now();
    for (const [key, pending] of hub.pending) {
      if (pending.holderDoneAt === 0 || now - pending.holderDoneAt < LOSS_GRACE_MS) continue;
      hub.pending.delete(key);
      put(pending.request.p, key, null);
      answer(pending.request, key);
    }
    notify();
    if (hub.pending.size > 0 && hub.lossTimer === null) {
      hub.lossTimer = setTimeout(giveUpOnLost, LOSS_GRACE_MS);
      hub.lossTimer.unref();
    }
  });
}

// ---- ownership ----------------------------------------------------------------------

/** A port arrives in this thread (again, maybe). */
export function arrived(end: PortEnd): void {
  // The end's fields are native accessors: read only when needed.
  if (hub.left.size !== 0) hub.left.delete(portKey(end.channelId, end.side));
}

/**
 * A port has left this thread, in a message or parked by detachPort(), and
 * every sender that saw this thread as its reader's has posted here (native
 * AwaitSendsTo): what waits here for it and did not go along in the message
 * goes to the custodian, where its next owner asks. Anything arriving later
 * (a reply to an earlier request) follows.
 */
export function departed(port: string): void {
  // Items it asked for and has not got: if it comes back, it asks again
  // (the custodian answers the latest asker).
  if (hub.requested.size !== 0) for (const [key, asker] of hub.requested) if (asker === port) hub.requested.delete(key);
  hub.left.add(port);
  if (THREAD !== CUSTODIAN && (hub.stash.size !== 0 || hub.links.size !== 0)) handOver(port);
}

/** The port closed: nothing more will be read for it here. */
export function forget(end: PortEnd): void {
  // Nothing reaches a thread without links (one made later brings only what
  // was sent after it, to an owner that no longer is: rare, and small).
  if (hub.links.size === 0) return;
  const port = portKey(end.channelId, end.side);
  if (hub.stash.size !== 0) hub.stash.delete(port);
  hub.closed.add(port);
}


function handOver(port: string): void {
  const waiting = takeAll(port);
  if (waiting === null) return;
  const park: Park = { [MARK]: 'park', p: port, k: waiting.keys, e: waiting.entries };
  const transfer = waiting.entries.flatMap((entry) => entry.transfer);
  toCustodian(park, transfer);
}

/**
 * Sends `message` to the custodian on this thread's link to it (Node drops
 * postMessageToThread() messages a thread sent just before it exits; a
 * port's messages are delivered), then tells it to read its links.
 */
function toCustodian(message: Park | Swept, transfer: unknown[]): void {
  const end = link(CUSTODIAN);
  end.port.postMessage(message, transfer as wt.Transferable[]);
  end.sent++;
  wt.postMessageToThread(CUSTODIAN, { [MARK]: 'poke' }).catch(() => {});
}

/** Items here for `ports`, which are read in other threads now, go to the custodian. */
function handOverStrays(ports: Iterable<string>): void {
  if (THREAD === CUSTODIAN || hub.stash.size === 0) return;
  for (const port of ports) if (hub.stash.has(port)) handOver(port);
}

// ---- sending and taking ------------------------------------------------------------

/**
 * Sends the items of one message to the thread that reads `port` (its
 * owner `readerThread`, or -1 while it has none: then to the custodian).
 * Throws what Node's serializer throws for them, before anything is sent.
 */
export function sendForeign(port: string, readerThread: number, values: unknown[], transfer: unknown[]): ForeignRef {
  let destination = readerThread >= 0 ? readerThread : CUSTODIAN;
  // Until the reader's thread has its end of the link, it could exit with
  // the items still in the offer: the custodian takes them meanwhile. The
  // custodian itself sends on at once, so that a reader never needs the
  // main thread's event loop to run for what the main thread sent it (it may
  // be blocked in a synchronous call to that reader).
  if (THREAD !== CUSTODIAN && destination !== THREAD && destination !== CUSTODIAN && !isReady(link(destination))) {
    destination = CUSTODIAN;
  }
  const end = destination === THREAD ? loopback() : link(destination);
  const seq = end.sent;
  const message: ItemsMessage = { p: port, v: values, t: transfer };
  end.port.postMessage(message, transfer as wt.Transferable[]);
  end.sent++;
  return { origin: THREAD, seq, destination };
}

/**
 * The link of this thread with itself: items read here go through Node's
 * serializer too, so that reading them back happens (and may fail, as
 * 'messageerror') when the message is read.
 */
function loopback(): LinkEnd {
  if (hub.loopback === null) {
    const { port1, port2 } = new wt.MessageChannel();
    hub.loopback = linkEnd(port1, READY);
    addEnd(THREAD, linkEnd(port2, READY));
  }
  return hub.loopback;
}

/** Serializes and transfers the items of a message nobody will read, for the errors and detaching. */
export function discardForeign(values: unknown[], transfer: unknown[]): void {
  structuredClone(values, { transfer: transfer as wt.Transferable[] });
}

/** The values cannot be had: their holder is gone. */
export class ForeignLost extends Error {}

/**
 * The items of message `ref` for `port`, or undefined if they have not
 * arrived yet: `wake` is then called when something arrives.
 */
export function takeForeign(port: string, ref: ForeignRef, wake: () => void): unknown[] | undefined {
  const key = itemKey(ref.origin, ref.destination, ref.seq);
  let entry = hub.stash.get(port)?.get(key);
  if (entry === undefined && (ref.destination === THREAD || THREAD === CUSTODIAN)) {
    readLinks(port, key);
    entry = hub.stash.get(port)?.get(key);
  }
  if (entry === undefined && hub.failed.has(key)) {
    const error = hub.failed.get(key);
    hub.failed.delete(key);
    throw error;
  }
  if (entry === null) {
    hub.stash.get(port)?.delete(key);
    throw new ForeignLost('Unable to deserialize cloned data: the values it carried were lost with a thread that exited.');
  }
  if (entry !== undefined) {
    hub.stash.get(port)?.delete(key);
    return entry.values;
  }
  hub.waiting.add(wake);
  if (ref.destination === THREAD && !readPast(ref.origin, ref.seq)) {
    // This thread's own items go through its loopback link before the record
    // is published: not sent yet, they never will be (a corrupt record).
    if (ref.origin === THREAD && (hub.loopback === null || ref.seq >= hub.loopback.sent)) {
      hub.waiting.delete(wake);
      throw new ForeignLost('Unable to deserialize cloned data.');
    }
    // On a link whose far end has not reached this thread yet.
    return undefined;
  }
  // They were here and left with the port, or went to an earlier owner:
  // the custodian has them, or will.
  const request: Request = { [MARK]: 'request', from: THREAD, o: ref.origin, d: ref.destination, s: ref.seq, p: port };
  if (THREAD === CUSTODIAN) {
    awaitItems(request, key);
  } else if (!hub.requested.has(key)) {
    hub.requested.set(key, port);
    wt.postMessageToThread(CUSTODIAN, request).catch(() => {
      hub.requested.delete(key);
      put(port, key, null);
      notify();
    });
  }
  return undefined;
}

/** Whether this thread has read the link from `origin` beyond place `seq`. */
function readPast(origin: number, seq: number): boolean {
  const ends = hub.links.get(origin);
  if (ends === undefined) return false;
  for (const end of ends) if (end.read > seq) return true;
  return false;
}

/** Everything waiting here for `port`, to travel with it (see bundle()). */
export function takeAll(port: string): { keys: string[]; entries: Items[] } | null {
  readLinks();
  const items = hub.stash.get(port);
  if (items === undefined || items.size === 0) return null;
  hub.stash.delete(port);
  const keys: string[] = [];
  const entries: Items[] = [];
  for (const [key, entry] of items) {
    if (entry === null) continue;
    keys.push(key);
    entries.push(entry);
  }
  return { keys, entries };
}

/** Puts back what takeAll() took, on the thread the port arrived at. */
export function putAll(port: string, keys: string[], entries: Items[]): void {
  for (let i = 0; i < keys.length; i++) put(port, keys[i], entries[i]);
}

// ---- what counts as foreign ---------------------------------------------------

function symbolOn(prototype: object, description: string): symbol | undefined {
  for (let p: object | null = prototype; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const found = Object.getOwnPropertySymbols(p).find((s) => s.description === description);
    if (found !== undefined) return found;
  }
  return undefined;
}

// Node marks its cloneable and transferable JavaScript host objects with
// these symbols (Blob, X509Certificate, BlockList, SocketAddress, histograms;
// FileHandle, web streams, AbortSignal).
const kClone = symbolOn(Blob.prototype, 'messaging_clone_symbol');
const kTransfer = symbolOn(ReadableStream.prototype, 'messaging_transfer_symbol');

const wasm = (globalThis as unknown as { WebAssembly?: { Module: Function; Memory: Function } }).WebAssembly;

/** Whether only Node's serializer can carry `value` (checked after the ring's own types). */
export function isForeign(value: object): boolean {
  return (
    types.isSharedArrayBuffer(value) ||
    value instanceof NodeMessagePort ||
    types.isKeyObject(value) ||
    types.isCryptoKey(value) ||
    (wasm !== undefined && (value instanceof wasm.Module || value instanceof wasm.Memory)) ||
    (kClone !== undefined && kClone in value) ||
    (kTransfer !== undefined && kTransfer in value)
  );
}
