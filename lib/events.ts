// The event objects ports dispatch. Node's global MessageEvent rejects ports
// it did not create in `source` and `ports`, so ringport's MessageEvent
// extends it and keeps those two itself: the events are still
// `instanceof MessageEvent` (the global one) and read the same.
import { invalidArgType } from './errors';
import { NodeEvent, NodeMessageEvent, NodeMessagePort } from './node-internals';

type MessagePortLike = object;

let isRingportPort: (value: unknown) => boolean = () => false;

/** Set by port.ts, which owns the MessagePort brand. */
export function setPortBrand(check: (value: unknown) => boolean): void {
  isRingportPort = check;
}

function isMessagePort(value: unknown): boolean {
  return isRingportPort(value) || value instanceof NodeMessagePort;
}

function describeReceived(value: unknown): string {
  if (value == null) return ` Received ${value}`;
  if (typeof value === 'function') return ` Received function ${(value as { name?: string }).name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? ` Received an instance of ${name}` : ' Received [object Object]';
  }
  let shown = String(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  if (typeof value === 'string') shown = `'${shown}'`;
  return ` Received type ${typeof value} (${shown})`;
}

function validatePort(value: unknown, name: string): void {
  if (!isMessagePort(value)) {
    throw invalidArgType(`The "${name}" property must be an instance of MessagePort.${describeReceived(value)}`);
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
export class MessageEvent<T = unknown> extends NodeMessageEvent {
  declare readonly data: T;
  readonly #source: MessagePortLike | null;
  readonly #ports: MessagePortLike[];

  constructor(type: string, init: MessageEventInit<T> = {}) {
    // Node's constructor would reject ringport ports: it gets none.
    const { source = null, ports = [] } = init ?? {};
    super(type, { data: init?.data, origin: init?.origin, lastEventId: init?.lastEventId });
    if (typeof ports !== 'object' || ports === null || typeof (ports as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`${String(ports)} is not iterable`);
    }
    const list = [...ports];
    if (source !== null) validatePort(source, 'init.source');
    for (let i = 0; i < list.length; i++) validatePort(list[i], `init.ports[${i}]`);
    this.#source = source;
    this.#ports = list;
  }

  /** The port that sent it (always null for port messages, as in Node). */
  get source(): MessagePortLike | null {
    return this.#source;
  }

  /** The MessagePorts of the transfer list, in order. */
  get ports(): readonly MessagePortLike[] {
    return this.#ports;
  }
}

Object.defineProperties(MessageEvent.prototype, {
  source: { enumerable: true },
  ports: { enumerable: true },
});

/** The event of a port's 'close'. */
export class MessagePortCloseEvent extends NodeEvent {
  constructor() {
    super('close');
  }
}

/** A ringport MessageEvent for a received message, without re-validating the ports. */
export function messageEvent(type: string, data: unknown, ports: MessagePortLike[] | undefined): MessageEvent {
  return new MessageEvent(type, { data, ports: ports ?? [] });
}
