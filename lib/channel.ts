// MessageChannel: two entangled ports over one native channel.
import { native } from './binding';
import { constructCallRequired } from './errors';
import { channelOptions, type DeliveryOptions } from './options';
import { createPort, type MessagePort } from './port';
import { INITIAL_CAPACITY } from './ring';

export interface MessageChannel {
  port1: MessagePort;
  port2: MessagePort;
}

export interface MessageChannelConstructor {
  /**
   * Two entangled ports, exactly as node:worker_threads' MessageChannel.
   * `options` opts both ports into faster delivery modes (README); like
   * Node, the constructor ignores arguments it cannot use (values of the
   * wrong type included: setPortOptions() validates).
   */
  new (options?: DeliveryOptions): MessageChannel;
  readonly prototype: MessageChannel;
}

/** Like Node's, callable only with `new`, ignoring arguments it does not know. */
export const MessageChannel = function MessageChannel(this: MessageChannel, options?: unknown): void {
  if (new.target === undefined) throw constructCallRequired();
  const resolved = channelOptions(options);
  const [first, second] = native.createChannel(INITIAL_CAPACITY);
  // Own, enumerable, writable data properties, as Node's.
  this.port1 = createPort(first, resolved, 0);
  this.port2 = createPort(second, resolved, 1);
} as unknown as MessageChannelConstructor;

Object.defineProperty(MessageChannel, 'length', { value: 0 });
