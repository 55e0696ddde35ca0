// ringport: a drop-in, faster MessageChannel / MessagePort /
// receiveMessageOnPort for node:worker_threads.
export { MessageChannel } from './channel';
export { MessagePort } from './port';
export { receiveMessageOnPort, type ReceiveOptions } from './receive';
export { detachPort, attachPort, type DetachedPort } from './handles';
export { MessageEvent } from './events';
export { BroadcastChannel } from './broadcast';
export { setPortOptions, getPortOptions } from './settings';
export type { DeliveryOptions } from './options';
export type { BackpressurePort } from './backpressure';
export { moveMessagePortToContext, type MovedMessagePort, type MovedMessageEvent } from './move-to-context';
export { Worker, parentPort, workerData, type WorkerOptions, type WorkerTransferItem } from './worker';
// The rest of node:worker_threads' surface, Node's own.
export {
  isMainThread,
  threadId,
  resourceLimits,
  SHARE_ENV,
  markAsUntransferable,
  getEnvironmentData,
  setEnvironmentData,
} from 'node:worker_threads';
