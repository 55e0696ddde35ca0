// moveMessagePortToContext(port, contextifiedSandbox): a ringport port moves
// into a vm context as Node's do. The moved object is created in the context
// (Node's per-context MessagePort: postMessage, start, plain onmessage /
// onmessageerror properties); a hidden ringport port on the same native
// handle does the work, so timing and liveness are the port's own. Each
// message is relayed through a Node channel whose reading end Node moved into
// the context: Node's deserializer then builds the data from the context's
// intrinsics and refuses the host objects it refuses (KeyObject, FileHandle…).
import * as vm from 'node:vm';
import * as workerThreads from 'node:worker_threads';

import { native, type PortHandle } from './binding';
import { closedMessagePort, invalidArgType } from './errors';
import { NodeMessagePort } from './node-internals';
import { createPort, detachMoved, isDetached, isPort, type MessagePort } from './port';

/** The event a moved port's onmessage / onmessageerror receives (Node's per-context MessageEvent). */
export interface MovedMessageEvent {
  readonly data: unknown;
  readonly target: MovedMessagePort;
  readonly type: 'message' | 'messageerror';
  readonly ports: readonly unknown[];
}

/** A port moved into a vm context: not an EventTarget; nothing is delivered before start(). */
export interface MovedMessagePort {
  postMessage(value: unknown, transfer?: readonly unknown[] | { transfer?: Iterable<unknown> }): boolean | undefined;
  start(): void;
  onmessage?: ((this: MovedMessagePort, event: MovedMessageEvent) => unknown) | null;
  onmessageerror?: ((this: MovedMessagePort, event: MovedMessageEvent) => unknown) | null;
}

type ErrorClass = new (message: string) => Error;
type DOMExceptionClass = new (message: string, name: string) => Error;

/** What a context provides: built once per context by its own script. */
interface Realm {
  create(): MovedMessagePort;
  emit(target: MovedMessagePort, data: unknown, type: string, ports: unknown[]): void;
  array(): unknown[];
  errors: Record<string, ErrorClass>;
  /** The context's DOMException, taken from the first error Node throws there (the context has no such global). */
  DOMException: DOMExceptionClass | null;
}

interface Moved {
  hidden: MessagePort;
  realm: Realm;
  /** Node's channel into the context: `relay` writes, `reader` (moved by Node) deserializes there. */
  relay: workerThreads.MessagePort;
  reader: object;
  started: boolean;
}

interface Bridge {
  post(self: unknown, args: IArguments): boolean | undefined;
  start(self: unknown): void;
}

// Runs in the context: its classes and arrays belong to it. Mirrors Node's
// lib/internal/per_context/messageport.js (the event's keys in that order).
const REALM_SCRIPT = `(function (bridge) {
  'use strict';
  const create = Object.create;
  function MessagePort() { throw new TypeError('Illegal constructor'); }
  const methods = {
    postMessage() { return bridge.post(this, arguments); },
    start() { bridge.start(this); },
  };
  // Node's order of own names: postMessage, start, constructor.
  MessagePort.prototype = { postMessage: methods.postMessage, start: methods.start };
  Object.defineProperty(MessagePort.prototype, 'constructor', { value: MessagePort, writable: true, configurable: true });
  class MessageEvent {
    constructor(data, target, type, ports) {
      this.data = data;
      this.target = target;
      this.type = type;
      this.ports = ports;
    }
  }
  return {
    create() { return create(MessagePort.prototype); },
    emit(target, data, type, ports) {
      const event = new MessageEvent(data, target, type, ports);
      if (type === 'message') {
        if (typeof target.onmessage === 'function') target.onmessage(event);
      } else if (typeof target.onmessageerror === 'function') {
        target.onmessageerror(event);
      }
    },
    array() { return []; },
    errors: { Error, TypeError, RangeError },
    DOMException: null,
  };
})`;

const realms = new WeakMap<object, Realm>();
const moved = new WeakMap<object, Moved>();

function stateOf(self: unknown, realm: Realm): Moved {
  const state = typeof self === 'object' && self !== null ? moved.get(self) : undefined;
  if (state === undefined) throw new realm.errors.TypeError('Illegal invocation');
  return state;
}

/**
 * An error ringport threw, as the context's own: Node's moved port throws its
 * DOMExceptions and Node-style errors from the context. Anything else (a
 * user's getter threw) passes through unchanged, as in Node.
 */
function toContext(error: unknown, state: Moved): unknown {
  const { realm } = state;
  if (error instanceof DOMException) {
    const Ctor = contextDOMException(state);
    return Ctor === null ? error : new Ctor(error.message, error.name);
  }
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const proto = Object.getPrototypeOf(error) as object;
  const name = proto === TypeError.prototype ? 'TypeError' : proto === RangeError.prototype ? 'RangeError' : proto === Error.prototype ? 'Error' : null;
  if (name === null || typeof code !== 'string' || !code.startsWith('ERR_')) return error;
  const converted = new realm.errors[name](error.message);
  Object.defineProperty(converted, 'code', { value: code, writable: true, enumerable: true, configurable: true });
  return converted;
}

function contextDOMException(state: Moved): DOMExceptionClass | null {
  const { realm } = state;
  if (realm.DOMException === null) {
    try {
      // A function cannot be cloned: Node throws the context's DataCloneError, before sending anything.
      (state.reader as workerThreads.MessagePort).postMessage(noop);
    } catch (error) {
      const ctor = (error as { constructor?: unknown }).constructor;
      if (typeof ctor === 'function') realm.DOMException = ctor as DOMExceptionClass;
    }
  }
  return realm.DOMException;
}

function noop(): void {}

/** What the context's methods call; per context, so that a wrong receiver gets the context's TypeError. */
const bridge = (realm: () => Realm): Bridge => ({
  post(self: unknown, args: IArguments): boolean | undefined {
    const state = stateOf(self, realm());
    try {
      return Reflect.apply(state.hidden.postMessage, state.hidden, Array.from(args)) as boolean | undefined;
    } catch (error) {
      throw toContext(error, state);
    }
  },
  start(self: unknown): void {
    const state = stateOf(self, realm());
    if (state.started) return;
    state.started = true;
    // The first 'message' listener starts the hidden port, as start() would.
    // addEventListener, not on(): on()'s listeners get the data alone, without the ports.
    state.hidden.addEventListener('message', (event) => deliver(self as MovedMessagePort, state, event as MessageEvent));
    state.hidden.addEventListener('messageerror', (event) => {
      state.realm.emit(self as MovedMessagePort, (event as MessageEvent).data, 'messageerror', state.realm.array());
    });
  },
});

/** One message, deserialized in the context by Node (or its error, as onmessageerror). */
function deliver(target: MovedMessagePort, state: Moved, event: MessageEvent): void {
  const { realm } = state;
  const ports = event.ports as readonly unknown[];
  if (ports.length > 0) {
    // Ringport ports cannot cross Node's channel: the message comes as ringport read it (README, Differences).
    const list = realm.array();
    for (const p of ports) list.push(p);
    realm.emit(target, event.data, 'message', list);
    return;
  }
  let data: unknown;
  let type = 'message';
  try {
    state.relay.postMessage(event.data);
    const received = workerThreads.receiveMessageOnPort(state.reader as workerThreads.MessagePort);
    data = received === undefined ? event.data : received.message;
  } catch (error) {
    // ERR_MESSAGE_TARGET_CONTEXT_UNAVAILABLE, from the context, as Node reports it.
    data = error;
    type = 'messageerror';
  }
  realm.emit(target, data, type, realm.array());
}

function realmOf(context: vm.Context): Realm {
  let realm = realms.get(context);
  if (realm === undefined) {
    const setup = vm.runInContext(REALM_SCRIPT, context) as (bridge: Bridge) => Realm;
    const made: Realm = setup(bridge(() => made));
    realm = made;
    realms.set(context, realm);
  }
  return realm;
}

function isContext(value: unknown): value is vm.Context {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    return vm.isContext(value as vm.Context);
  } catch {
    return false;
  }
}

/**
 * Node's moveMessagePortToContext, for ringport ports too: the port's channel
 * end moves into `contextifiedSandbox`; the original stays behind, detached.
 * Node's own ports (and anything else) go to Node's function.
 */
export function moveMessagePortToContext(
  port: MessagePort | workerThreads.MessagePort,
  contextifiedSandbox: vm.Context,
): MovedMessagePort {
  if (!isPort(port)) {
    return workerThreads.moveMessagePortToContext(port as workerThreads.MessagePort, contextifiedSandbox) as unknown as MovedMessagePort;
  }
  // Node's order: a closed port, then the context.
  if (isDetached(port)) throw closedMessagePort();
  if (!isContext(contextifiedSandbox)) throw invalidArgType('Invalid context argument');
  const realm = realmOf(contextifiedSandbox);
  const handle = native.attach(detachMoved(port)) as PortHandle;
  const hidden = createPort(handle, null);
  // Node's moved port keeps the event loop alive until its channel closes.
  hidden.ref();
  const channel = new workerThreads.MessageChannel();
  const reader = workerThreads.moveMessagePortToContext(channel.port2, contextifiedSandbox) as unknown as object;
  // The relay never holds the event loop: the hidden port does.
  NodeMessagePort.prototype.unref.call(reader);
  const target = realm.create();
  moved.set(target, { hidden, realm, relay: channel.port1, reader, started: false });
  hidden.on('close', () => channel.port1.close());
  return target;
}
