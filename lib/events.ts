// The event objects ports dispatch: Node's own MessageEvent class. Its
// constructor accepts only Node's MessagePorts in `ports` and `source`, so
// ringport builds the event with none and then sets the two fields itself.
import { invalidArgTypeJs } from './errors';
import { NodeEvent, NodeMessageEvent, NodeMessagePort, type NodeMessageEventLike } from './node-internals';

type MessagePortLike = object;

let isRingportPort: (value: unknown) => boolean = () => false;

/** Set by port.ts, which owns the MessagePort brand. */
export function setPortBrand(check: (value: unknown) => boolean): void {
  isRingportPort = check;
}

function symbolNamed(object: object, description: string): symbol {
  const found = Object.getOwnPropertySymbols(object).find((s) => s.description === description);
  if (found === undefined) throw new Error(`ringport: Node's MessageEvent has no ${description}`);
  return found;
}

const probe = new NodeMessageEvent('message');
const kSource = symbolNamed(probe, 'kSource');
const kPorts = symbolNamed(probe, 'kPorts');

type Fields = Record<symbol, unknown>;

function validatePort(value: unknown, name: string): void {
  if (!isRingportPort(value) && !(value instanceof NodeMessagePort)) {
    throw invalidArgTypeJs(name, 'an instance of MessagePort', value);
  }
}

export interface MessageEventInit<T = unknown> {
  data?: T;
  origin?: string;
  lastEventId?: string;
  source?: MessagePortLike | null;
  ports?: Iterable<MessagePortLike>;
}

/** The event `message` and `messageerror` listeners added with addEventListener/onmessage receive. */
export interface MessageEvent<T = unknown> extends NodeMessageEventLike {
  readonly data: T;
  readonly origin: string;
  readonly lastEventId: string;
  /** The port that sent it (null for port messages, as in Node). */
  readonly source: MessagePortLike | null;
  /** The MessagePorts of the transfer list, in order. */
  readonly ports: MessagePortLike[];
}

export interface MessageEventConstructor {
  new <T = unknown>(type: string, init?: MessageEventInit<T>): MessageEvent<T>;
  readonly prototype: MessageEvent;
}

const EMPTY_INIT: MessageEventInit = Object.freeze({});

/**
 * Node's MessageEvent constructor, accepting ringport ports as well: it
 * returns instances of Node's class (so `event.constructor` is the global
 * MessageEvent) and reads and checks its init members in Node's order.
 */
export const MessageEvent = function MessageEvent(
  this: unknown,
  type: string,
  { data = null, origin = '', lastEventId = '', source = null, ports = [] }: MessageEventInit = EMPTY_INIT,
): MessageEvent {
  if (new.target === undefined) throw new TypeError("Class constructor MessageEvent cannot be invoked without 'new'");
  const event = new NodeMessageEvent(type, { data, origin, lastEventId }) as unknown as Fields;
  event[kSource] = source;
  event[kPorts] = [...ports];
  if (source !== null) validatePort(source, 'init.source');
  const list = event[kPorts] as unknown[];
  for (let i = 0; i < list.length; i++) validatePort(list[i], `init.ports[${i}]`);
  return event as unknown as MessageEvent;
} as unknown as MessageEventConstructor;

Object.defineProperty(MessageEvent, 'prototype', { value: NodeMessageEvent.prototype, writable: false });

/** The event of a received message, with its ports (not re-validated). */
export function messageEvent(type: string, data: unknown, ports: MessagePortLike[] | undefined): MessageEvent {
  const event = new NodeMessageEvent(type, { data }) as unknown as Fields;
  if (ports !== undefined) event[kPorts] = [...ports];
  return event as unknown as MessageEvent;
}

/** The event of a port's 'close'. */
export class MessagePortCloseEvent extends NodeEvent {
  constructor() {
    super('close');
  }
}
