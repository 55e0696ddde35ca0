// Values only Node's own MessageChannel can carry — SharedArrayBuffers,
// WebAssembly objects, Node's MessagePorts and host objects (Blob, KeyObject,
// FileHandle, streams…), and large transferred ArrayBuffers, which Node moves
// without copying — travel beside the ring: the ring record says where to
// find them, and Node's serializer carries them with Node's semantics.
//
// Where they go: a Node MessagePort "link" per pair of threads, set up once
// with postMessageToThread() (and one from the thread to itself for a reader
// on the same thread). Each ringport message's items are one Node message on
// the link, numbered by its place there, enqueued before the ring record is
// published, so the reader takes them synchronously, and one that Node cannot
// deserialize is still known by its number. Items for a reader that is in
// flight (its port is being transferred) go to the sender's own thread, which
// serves them on request. A port that moves through a ringport port takes its
// waiting items along; a port that moves through detachPort() leaves them
// with the old owner, who serves them on request. Items are keyed by (origin
// thread, destination thread, place on their link).
import { Blob } from 'node:buffer';
import { runInThisContext } from 'node:vm';
import { ReadableStream } from 'node:stream/web';
import { types } from 'node:util';
import * as wt from 'node:worker_threads';

import { native } from './binding';
import { NodeMessagePort } from './node-internals';

const THREAD = wt.threadId;
const MARK = 'ringport:side';

/** Where the items of one message are. */
export interface ForeignRef {
  /** Thread that sent them. */
  origin: number;
  /** Their place among the messages of the link from origin to destination. */
  seq: number;
  /** Thread they were delivered to (the reader's owner then, or the origin when it had none). */
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

/** One Node message on a link: the items of one ringport message, and their key. */
interface ItemsMessage extends ItemsKey {
  v?: unknown[];
  t?: unknown[];
  missing?: true;
}

/** One end of a link: Node messages sent and read through it, counted to number them. */
interface LinkEnd {
  port: wt.MessagePort;
  sent: number;
  read: number;
}

interface LinkOffer {
  [MARK]: 'link';
  from: number;
  port: wt.MessagePort;
}

interface Request {
  [MARK]: 'request';
  from: number;
  o: number;
  s: number;
  p: string;
}

/** The answer to a Request: delivered as an event, so that the waiting reader wakes. */
interface Reply extends ItemsMessage {
  [MARK]: 'reply';
  /** The thread that held the items (their destination). */
  from: number;
}

/** Per-thread state, shared by every copy of the library loaded in the thread. */
interface Hub {
  /** Link ends by the thread at the other end: send on the first, read all. */
  links: Map<number, LinkEnd[]>;
  /** Items by reading port key, then by item key; null marks items that cannot be had. */
  stash: Map<string, Map<string, Items | null>>;
  /** What Node's deserializer threw for items read here, by item key (the port is not known). */
  failed: Map<string, unknown>;
  /** Item keys asked from another thread and not answered yet. */
  requested: Set<string>;
  /** Called when something arrives that a waiting port may need. */
  waiting: Set<() => void>;
  /** The sending end of this thread's link with itself (loopback()). */
  loopback: LinkEnd | null;
}

const shared = native.shared();
const hub: Hub =
  (shared.foreignHub as Hub | undefined) ??
  (shared.foreignHub = {
    links: new Map(),
    stash: new Map(),
    failed: new Map(),
    requested: new Set(),
    waiting: new Set(),
    loopback: null,
  } satisfies Hub);
if (shared.foreignListener === undefined) {
  shared.foreignListener = true;
  // The process of the main context: code loaded in a vm context (a test
  // runner's sandbox) may see a stand-in that never gets 'workerMessage'.
  (runInThisContext('process') as NodeJS.Process).on('workerMessage', onWorkerMessage);
}

function itemKey(origin: number, destination: number, seq: number): string {
  return `${origin}>${destination}:${seq}`;
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

function linkEnd(port: wt.MessagePort): LinkEnd {
  return { port, sent: 0, read: 0 };
}

function link(thread: number): LinkEnd {
  const existing = hub.links.get(thread);
  if (existing !== undefined) return existing[0];
  const { port1, port2 } = new wt.MessageChannel();
  const end = linkEnd(port1);
  hub.links.set(thread, [end]);
  // The far end travels with everything posted on port1 meanwhile.
  const offer: LinkOffer = { [MARK]: 'link', from: THREAD, port: port2 };
  wt.postMessageToThread(thread, offer, [port2]).catch(() => {
    // The thread is gone: so is whatever was waiting for these items.
    hub.links.delete(thread);
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
        put(message.p, itemsKey, { values: message.v as unknown[], transfer: message.t as unknown[] });
        hub.requested.delete(itemsKey);
        if (message.p === port && itemsKey === key) return;
      }
    }
  }
}

function onWorkerMessage(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const message = value as Partial<LinkOffer & Request & Reply>;
  if (message[MARK] === 'link') {
    const offer = message as LinkOffer;
    const ends = hub.links.get(offer.from);
    if (ends === undefined) hub.links.set(offer.from, [linkEnd(offer.port)]);
    else ends.push(linkEnd(offer.port));
    notify();
  } else if (message[MARK] === 'request') {
    serve(message as Request);
  } else if (message[MARK] === 'reply') {
    const reply = message as Reply;
    const key = itemKey(reply.o, reply.from, reply.s);
    put(reply.p, key, reply.missing ? null : { values: reply.v as unknown[], transfer: reply.t as unknown[] });
    hub.requested.delete(key);
    notify();
  }
}

/** Another thread reads a port whose items this thread holds. */
function serve(request: Request): void {
  readLinks();
  const key = itemKey(request.o, THREAD, request.s);
  const items = hub.stash.get(request.p);
  const entry = items?.get(key);
  items?.delete(key);
  hub.failed.delete(key);
  const reply: Reply = { [MARK]: 'reply', from: THREAD, o: request.o, s: request.s, p: request.p };
  let transfer: unknown[] = [];
  if (entry == null) {
    reply.missing = true;
  } else {
    reply.v = entry.values;
    reply.t = transfer = entry.transfer;
  }
  // If the asker is gone, so is the port that wanted these.
  wt.postMessageToThread(request.from, reply, transfer as wt.Transferable[]).catch(() => {});
}

/**
 * Sends the items of one message to the thread that reads `port` (its
 * owner `readerThread`, or -1 while it has none). Throws what Node's
 * serializer throws for them, before anything is sent.
 */
export function sendForeign(port: string, readerThread: number, values: unknown[], transfer: unknown[]): ForeignRef {
  const remote = readerThread >= 0 && readerThread !== THREAD;
  const end = remote ? link(readerThread) : loopback();
  const seq = end.sent;
  const message: ItemsMessage = { o: THREAD, s: seq, p: port, v: values, t: transfer };
  end.port.postMessage(message, transfer as wt.Transferable[]);
  end.sent++;
  return { origin: THREAD, seq, destination: remote ? readerThread : THREAD };
}

/**
 * The link of this thread with itself: items read here go through Node's
 * serializer too, so that reading them back happens (and may fail, as
 * 'messageerror') when the message is read.
 */
function loopback(): LinkEnd {
  if (hub.loopback === null) {
    const { port1, port2 } = new wt.MessageChannel();
    hub.loopback = linkEnd(port1);
    const ends = hub.links.get(THREAD);
    if (ends === undefined) hub.links.set(THREAD, [linkEnd(port2)]);
    else ends.push(linkEnd(port2));
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
  if (entry === undefined && ref.destination === THREAD) {
    readLinks(port, key);
    entry = hub.stash.get(port)?.get(key);
    // This thread's own items go through its loopback link before the record
    // is published: not there now, they never will be (a corrupt record).
    if (entry === undefined && ref.origin === THREAD && !hub.failed.has(key)) {
      throw new ForeignLost('Unable to deserialize cloned data.');
    }
    // Read here already (the link from the origin is past them) but no longer
    // here: they left with the port, which has since come back without them.
    if (entry === undefined && !hub.failed.has(key) && readPast(ref.origin, ref.seq)) {
      throw new ForeignLost('Unable to deserialize cloned data: the values it carried stayed with an earlier owner.');
    }
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
  if (ref.destination !== THREAD && !hub.requested.has(key)) {
    // They went to the port's owner of the time; ask it.
    hub.requested.add(key);
    const request: Request = { [MARK]: 'request', from: THREAD, o: ref.origin, s: ref.seq, p: port };
    wt.postMessageToThread(ref.destination, request).catch(() => {
      hub.requested.delete(key);
      put(port, key, null);
      notify();
    });
  }
  hub.waiting.add(wake);
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

/** The port closed: nothing more will be read for it here. */
export function forget(channelId: number, side: number): void {
  if (hub.stash.size !== 0) hub.stash.delete(portKey(channelId, side));
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
