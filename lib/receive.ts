// receiveMessageOnPort(): take one message synchronously, without dispatching;
// with a timeout, block the thread until one arrives.
import * as workerThreads from 'node:worker_threads';

import { invalidArgType, invalidArgTypeJs, outOfRange } from './errors';
import { isPort, receiveMessage, waitForMessage, type MessagePort } from './port';

/** Options of receiveMessageOnPort() (ringport's addition to Node's signature). */
export interface ReceiveOptions {
  /**
   * Milliseconds to block the calling thread for a message when none is
   * queued; `Infinity` waits until one arrives or the peer closes. Default 0
   * (Node's behaviour: never blocks). Applies to ringport ports.
   */
  timeout?: number;
}

/**
 * Returns `{ message }` for the oldest queued message of `port`, or undefined
 * if there is none. As in Node, it works whether or not the port is started,
 * and does not emit 'message'. With `{ timeout }`, a ringport port's caller
 * blocks until a message arrives (returned), the peer closes, or the time
 * runs out (undefined). Node's own ports and BroadcastChannels are handed to
 * node:worker_threads, which never blocks.
 */
export const receiveMessageOnPort = function receiveMessageOnPort(port: MessagePort): { message: unknown } | undefined {
  // Read from `arguments`: the function's length stays Node's (1).
  // eslint-disable-next-line prefer-rest-params
  const options: unknown = arguments[1];
  if (isPort(port)) {
    if (options === undefined) return receiveMessage(port);
    const timeout = timeoutOf(options);
    return timeout === 0 ? receiveMessage(port) : waitForMessage(port, timeout);
  }
  if (port instanceof workerThreads.MessagePort || port instanceof workerThreads.BroadcastChannel) {
    return workerThreads.receiveMessageOnPort(port as workerThreads.MessagePort);
  }
  throw invalidArgType('The "port" argument must be a MessagePort instance');
} as (port: MessagePort, options?: ReceiveOptions) => { message: unknown } | undefined;

function timeoutOf(options: unknown): number {
  if (options === null || typeof options !== 'object') throw invalidArgTypeJs('options', 'of type object', options);
  const timeout = (options as ReceiveOptions).timeout;
  if (timeout === undefined) return 0;
  if (typeof timeout !== 'number') throw invalidArgTypeJs('options.timeout', 'of type number', timeout);
  if (!(timeout >= 0)) throw outOfRange('options.timeout', '>= 0', timeout);
  return timeout;
}
