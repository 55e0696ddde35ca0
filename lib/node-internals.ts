// The pieces of Node's own MessagePort machinery that ringport builds on, so
// that listeners, events and liveness behave exactly as Node's: its
// NodeEventTarget (reached through the public MessagePort's prototype chain),
// the symbols its EventTarget uses to dispatch, and the tick-queue drain that
// runs between two messages.
import * as workerThreads from 'node:worker_threads';

export const NodeMessagePort = workerThreads.MessagePort;

/**
 * A listener. Declared through a method so that its parameter is checked
 * bivariantly: `port.on('message', (n: number) => …)` type-checks, as with
 * Node's own typings, without `any`.
 */
export type Listener<T = unknown> = { bivarianceHack(value: T): unknown }['bivarianceHack'];

/** Node's NodeEventTarget instance surface (lib/internal/event_target.js). */
export interface NodeEventTargetLike extends EventTarget {
  on(type: string, listener: Listener): this;
  once(type: string, listener: Listener): this;
  off(type: string, listener: Listener): this;
  addListener(type: string, listener: Listener): this;
  removeListener(type: string, listener: Listener): this;
  removeAllListeners(type?: string): this;
  emit(type: string, arg?: unknown): boolean;
  listenerCount(type: string): number;
  eventNames(): string[];
  setMaxListeners(n: number): void;
  getMaxListeners(): number;
}

export type NodeEventTargetConstructor = new () => NodeEventTargetLike;

export const NodeEventTarget = (Object.getPrototypeOf(NodeMessagePort.prototype) as { constructor: unknown })
  .constructor as NodeEventTargetConstructor;

function symbolNamed(object: object, description: string): symbol {
  const found = Object.getOwnPropertySymbols(object).find((s) => s.description === description);
  if (found === undefined) {
    throw new Error(`ringport: this Node.js version has no EventTarget ${description}; ringport needs Node.js 20`);
  }
  return found;
}

/** Node's EventTarget.prototype (taken from the class chain, not the global: a vm context may have its own). */
export const eventTargetPrototype = Object.getPrototypeOf(NodeEventTarget.prototype) as EventTarget;
/** Called as this[kNewListener](size, type, listener, once, capture, passive, weak) after a listener is added. */
export const kNewListener = symbolNamed(eventTargetPrototype, 'kNewListener');
/** Called as this[kRemoveListener](size, type, listener, capture) after a listener is removed. */
export const kRemoveListener = symbolNamed(eventTargetPrototype, 'kRemoveListener');
/** this[kCreateEvent](data, type): the event object EventTarget-style listeners get. */
export const kCreateEvent = symbolNamed(eventTargetPrototype, 'kCreateEvent');
/** this[kHybridDispatch](value, type, event): Node-style listeners get `value`, others an event made lazily. */
export const kHybridDispatch = Symbol.for('nodejs.internal.kHybridDispatch');
/** The ports of the message being dispatched, read by kCreateEvent. */
export const kCurrentlyReceivingPorts = Symbol.for('nodejs.internal.kCurrentlyReceivingPorts');

/** The per-instance map of listener lists that NodeEventTarget keeps (type -> list root). */
export const kEvents = symbolNamed(new NodeEventTarget(), 'kEvents');

export type HybridDispatch = (this: object, value: unknown, type: string, event: Event | undefined) => void;

/**
 * Runs process.nextTick callbacks and microtasks now, as Node does after each
 * MakeCallback: this is what runs between two messages. It is Node's own
 * runNextTicks (process._tickCallback); with --pending-deprecation Node wraps
 * it in a deprecation warning, and ringport then reports that it cannot drain
 * between messages from JavaScript (null).
 */
export const runNextTicks: (() => void) | null = (() => {
  const fn = (process as unknown as { _tickCallback?: () => void })._tickCallback;
  return typeof fn === 'function' && fn.name === 'runNextTicks' ? fn : null;
})();

export interface NodeMessageEventLike extends Event {
  readonly data: unknown;
  readonly origin: string;
  readonly lastEventId: string;
}

type MessageEventClass = new (
  type: string,
  init?: { data?: unknown; origin?: string; lastEventId?: string },
) => NodeMessageEventLike;

/** Node's MessageEvent: the global, or (in a vm context without it) the class of an event Node makes. */
function findMessageEvent(): MessageEventClass {
  const global = (globalThis as { MessageEvent?: unknown }).MessageEvent;
  if (typeof global === 'function') return global as MessageEventClass;
  const { port1, port2 } = new workerThreads.MessageChannel();
  try {
    const create = (NodeMessagePort.prototype as unknown as Record<symbol, (d: unknown, t: string) => object>)[
      kCreateEvent
    ];
    return create.call(port1, null, 'message').constructor as MessageEventClass;
  } finally {
    port1.close();
    port2.close();
  }
}

/** Node's MessageEvent, typed loosely enough to extend. */
export const NodeMessageEvent = findMessageEvent();

/** Node's Event class, which EventTarget#dispatchEvent requires. */
export const NodeEvent = Object.getPrototypeOf(NodeMessageEvent.prototype).constructor as typeof Event;
