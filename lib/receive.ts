// receiveMessageOnPort(): take one message synchronously, without dispatching.
import * as workerThreads from 'node:worker_threads';

import { invalidArgType } from './errors';
import { isPort, receiveMessage, type MessagePort } from './port';

/**
 * Returns `{ message }` for the oldest queued message of `port`, or undefined
 * if there is none. As in Node, it works whether or not the port is started,
 * and does not emit 'message'. Node's own ports and BroadcastChannels are
 * handed to node:worker_threads.
 */
export function receiveMessageOnPort(port: MessagePort): { message: unknown } | undefined {
  if (isPort(port)) return receiveMessage(port);
  if (port instanceof workerThreads.MessagePort || port instanceof workerThreads.BroadcastChannel) {
    return workerThreads.receiveMessageOnPort(port as workerThreads.MessagePort);
  }
  throw invalidArgType('The "port" argument must be a MessagePort instance');
}
