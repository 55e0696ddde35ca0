// Values only Node's own MessageChannel can carry — SharedArrayBuffers,
// WebAssembly objects, Node's MessagePorts and host objects (Blob, KeyObject,
// FileHandle, streams…), and large transferred ArrayBuffers, which Node moves
// without copying — travel beside the ring: the ring record says where to
// find them, and Node's serializer carries them with Node's semantics.
//
// Where they go:
// - same thread: structuredClone() (Node's serializer, in-process) into a
//   per-thread stash;
// - another thread: a Node MessagePort "link" per pair of threads, set up
//   once with postMessageToThread(); items are enqueued on the link before
//   the ring record is published, so the reader finds them synchronously;
// - a reader that is in flight (its port is being transferred): the sender
//   keeps them and serves them on request.
// A port that moves through a ringport port takes its waiting items along; a
// port that moves through detachPort() leaves them with the old owner, who
// serves them on request. Items are keyed by (origin thread, sequence).
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
  /** Its sequence number for them. */
  seq: number;
  /** Thread they were delivered to (the reader's owner then, or the origin when it had none). */
  destination: number;
}

/** The items of one message, or the error reading them back gave. */
type Entry = { values: unknown[]; transfer: unknown[] } | { error: unknown };
type Items = { values: unknown[]; transfer: unknown[] };

/**
 * On a link, each message's items come as two Node messages: the payload
 * `{ v, t }`, then this key. Reading the payload may throw (Node's
 * deserializer can fail); the key that follows says whose error it is. A
 * payload Node refuses to serialize is not posted, nor is its key.
 */
interface ItemsKey {
  o: number;
  s: number;
  p: string;
}

interface ItemsMessage extends ItemsKey {
  v?: unknown[];
  t?: unknown[];
  missing?: true;
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
}

/** Per-thread state, shared by every copy of the library loaded in the thread. */
interface Hub {
  nextSeq: number;
  /** Node ports linking this thread with another: send on the first, read all. */
  links: Map<number, wt.MessagePort[]>;
  /** Items by reading port key, then by item key; null marks items that cannot be had. */
  stash: Map<string, Map<string, Entry | null>>;
  /** Item keys asked from another thread and not answered yet. */
  requested: Set<string>;
  /** Called when something arrives that a waiting port may need. */
  waiting: Set<() => void>;
  /** The sending end of this thread's link with itself (loopback()). */
  loopback: wt.MessagePort | null;
}

const shared = native.shared();
const hub: Hub =
  (shared.foreignHub as Hub | undefined) ??
  (shared.foreignHub = {
    nextSeq: 1,
    links: new Map(),
    stash: new Map(),
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

function itemKey(origin: number, seq: number): string {
  return `${origin}:${seq}`;
}

/** The key of the port that reads a channel side. */
export function portKey(channelId: number, side: number): string {
  return `${channelId}:${side}`;
}

function put(port: string, key: string, entry: Entry | null): void {
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

function link(thread: number): wt.MessagePort {
  const existing = hub.links.get(thread);
  if (existing !== undefined) return existing[0];
  const { port1, port2 } = new wt.MessageChannel();
  hub.links.set(thread, [port1]);
  // The far end travels with everything posted on port1 meanwhile.
  const offer: LinkOffer = { [MARK]: 'link', from: THREAD, port: port2 };
  wt.postMessageToThread(thread, offer, [port2]).catch(() => {
    // The thread is gone: so is whatever was waiting for these items.
    hub.links.delete(thread);
    port1.close();
  });
  return port1;
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
    for (const ports of hub.links.values()) {
      for (const link of ports) {
        let entry: Entry;
        try {
          const payload = wt.receiveMessageOnPort(link);
          if (payload === undefined) continue;
          const m = payload.message as ItemsMessage;
          entry = { values: m.v as unknown[], transfer: m.t as unknown[] };
        } catch (error) {
          // What Node's receiver would report as 'messageerror'.
          entry = { error };
        }
        progress = true;
        const got = wt.receiveMessageOnPort(link);
        if (got === undefined) continue; // its sender died between the two
        const k = got.message as ItemsKey;
        const itemsKey = itemKey(k.o, k.s);
        put(k.p, itemsKey, entry);
        hub.requested.delete(itemsKey);
        if (k.p === port && itemsKey === key) return;
      }
    }
  }
}

/** Posts the items of message (origin, seq) for `port` on a link: payload, then key. */
function postItems(link: wt.MessagePort, key: ItemsKey, values: unknown[], transfer: unknown[]): void {
  link.postMessage({ v: values, t: transfer }, transfer as wt.Transferable[]);
  link.postMessage(key);
}

function onWorkerMessage(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const message = value as Partial<LinkOffer & Request & Reply>;
  if (message[MARK] === 'link') {
    const offer = message as LinkOffer;
    const ports = hub.links.get(offer.from);
    if (ports === undefined) hub.links.set(offer.from, [offer.port]);
    else ports.push(offer.port);
    notify();
  } else if (message[MARK] === 'request') {
    serve(message as Request);
  } else if (message[MARK] === 'reply') {
    const reply = message as Reply;
    const key = itemKey(reply.o, reply.s);
    put(reply.p, key, reply.missing ? null : { values: reply.v as unknown[], transfer: reply.t as unknown[] });
    hub.requested.delete(key);
    notify();
  }
}

/** Another thread reads a port whose items this thread holds. */
function serve(request: Request): void {
  readLinks();
  const key = itemKey(request.o, request.s);
  const items = hub.stash.get(request.p);
  const entry = items?.get(key);
  items?.delete(key);
  const reply: Reply = { [MARK]: 'reply', o: request.o, s: request.s, p: request.p };
  let transfer: unknown[] = [];
  if (entry == null || 'error' in entry) {
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
  const seq = hub.nextSeq;
  const remote = readerThread >= 0 && readerThread !== THREAD;
  postItems(remote ? link(readerThread) : loopback(), { o: THREAD, s: seq, p: port }, values, transfer);
  hub.nextSeq++;
  return { origin: THREAD, seq, destination: remote ? readerThread : THREAD };
}

/**
 * The link of this thread with itself: items read here go through Node's
 * serializer too, so that reading them back happens (and may fail, as
 * 'messageerror') when the message is read.
 */
function loopback(): wt.MessagePort {
  if (hub.loopback === null) {
    const { port1, port2 } = new wt.MessageChannel();
    hub.loopback = port1;
    const ports = hub.links.get(THREAD);
    if (ports === undefined) hub.links.set(THREAD, [port2]);
    else ports.push(port2);
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
  const key = itemKey(ref.origin, ref.seq);
  let entry = hub.stash.get(port)?.get(key);
  if (entry === undefined) {
    readLinks(port, key);
    entry = hub.stash.get(port)?.get(key);
  }
  if (entry === null) {
    hub.stash.get(port)?.delete(key);
    throw new ForeignLost('Unable to deserialize cloned data: the values it carried were lost with a thread that exited.');
  }
  if (entry !== undefined) {
    hub.stash.get(port)?.delete(key);
    if ('error' in entry) throw entry.error;
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

/** Everything waiting here for `port`, to travel with it (see bundle()). */
export function takeAll(port: string): { keys: string[]; entries: Items[] } | null {
  readLinks();
  const items = hub.stash.get(port);
  if (items === undefined || items.size === 0) return null;
  hub.stash.delete(port);
  const keys: string[] = [];
  const entries: Items[] = [];
  for (const [key, entry] of items) {
    if (entry === null || 'error' in entry) continue;
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
export function forget(port: string): void {
  hub.stash.delete(port);
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
