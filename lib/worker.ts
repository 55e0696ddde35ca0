// Worker: node:worker_threads' Worker whose postMessage / 'message' and the
// worker's parentPort ride a ringport channel, and whose workerData,
// transferList and postMessage transfer lists take ringport ports. The rest
// (error, exit, online, terminate, stdio, resourceLimits…) is Node's own.
//
// How the worker finds its end of the channel: Node's Worker clones the
// parent's environment data into the new thread when it is constructed, so
// for that one construction it holds a SharedArrayBuffer under KEY. Once the
// thread id is known and the ports are detached, the parent writes the id and
// the handles' tokens into it. ringport, loaded in the worker, takes them only
// if the id is its own: a Node worker started from that worker inherits the
// same buffer and must not take them.
import { EventEmitter } from 'node:events';
import * as wt from 'node:worker_threads';

import { dataCloneError, missingTransferable } from './errors';
import { attachPort, detachPort } from './handles';
import { MessageChannel } from './channel';
import { isPort, type MessagePort } from './port';
import { receiveMessageOnPort } from './receive';
import { replacePorts, restorePorts } from './worker-data';

/** What a transfer list of ringport's Worker may hold: Node's transferables and ringport ports. */
export type WorkerTransferItem = wt.TransferListItem | MessagePort;

/** Node's WorkerOptions, with ringport ports allowed in `transferList` (and then in `workerData`). */
export interface WorkerOptions extends Omit<wt.WorkerOptions, 'transferList'> {
  transferList?: readonly WorkerTransferItem[];
}

const KEY = 'ringport:worker';
const NodeWorker = wt.Worker;
const emit = EventEmitter.prototype.emit;

// Carrier layout: an Int32 state word (0 until published, then the worker's
// thread id, or -1 if construction failed), then Float64 tokens: the parent
// port's, then the listed ports' in transfer-list order.
const STATE = 0;
const TOKENS_AT = 8;

/** Node's Worker[kOnExit]: called once the thread has stopped, before 'exit'. Node drains its own port there. */
const kOnExit = Object.getOwnPropertySymbols(NodeWorker.prototype).find((s) => s.description === 'kOnExit');

interface State {
  /** The parent's end of the channel; null once the worker has exited. */
  port: MessagePort | null;
  /** The port's 'message' listener, attached while the worker has 'message' listeners (Node starts and stops its port so). */
  forward: (value: unknown) => void;
  forwarding: boolean;
  /** Tokens handed to the worker: reclaimed (attached and closed) at exit if the worker never took them. */
  tokens: number[];
}

const states = new WeakMap<object, State>();

function isPlainArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

/** The ringport ports of a transfer list, in order; throws Node's error for a duplicate. */
function listedPorts(list: readonly unknown[]): object[] {
  const ports: object[] = [];
  for (const entry of list) {
    if (!isPort(entry)) continue;
    if (ports.includes(entry)) throw dataCloneError('Transfer list contains duplicate MessagePort');
    ports.push(entry);
  }
  return ports;
}

function unlisted(port: object): Error {
  void port;
  return missingTransferable();
}

/**
 * node:worker_threads' Worker, with its messages through a ringport channel:
 * `worker.postMessage()` and the worker's `parentPort` (from
 * `require('ringport')`) are ringport ports' postMessage, and ringport ports
 * may be listed in `transferList` (of the options and of `postMessage`) and
 * placed in `workerData`. Everything else is Node's Worker.
 */
export class Worker extends NodeWorker {
  constructor(filename: string | URL, options?: WorkerOptions) {
    let nodeOptions: unknown = options;
    let listed: object[] = [];
    if (typeof options === 'object' && options !== null) {
      const list: unknown = options.transferList;
      if (isPlainArray(list)) {
        listed = listedPorts(list);
        const data: unknown = options.workerData;
        const replaced = replacePorts(data, listed, isPort, unlisted);
        if (listed.length > 0 || replaced !== data) {
          // Node reads the rest of the options through the prototype chain, as it would from `options`.
          nodeOptions = Object.create(options, {
            workerData: { value: replaced, enumerable: true },
            transferList: { value: list.filter((entry) => !isPort(entry)), enumerable: true },
          });
        }
      } else if (typeof options.workerData === 'object' && options.workerData !== null) {
        replacePorts(options.workerData, listed, isPort, unlisted);
      }
    }
    const { port1, port2 } = new MessageChannel();
    const carrier = new SharedArrayBuffer(TOKENS_AT + 8 * (1 + listed.length));
    const previous: unknown = wt.getEnvironmentData(KEY);
    wt.setEnvironmentData(KEY, carrier as unknown as wt.Serializable);
    try {
      super(filename, nodeOptions as wt.WorkerOptions);
    } catch (error) {
      port1.close();
      port2.close();
      throw error;
    } finally {
      wt.setEnvironmentData(KEY, previous as wt.Serializable);
    }

    const state: State = {
      port: port1,
      forward: (value) => emit.call(this, 'message', value),
      forwarding: true,
      tokens: [],
    };
    // Node's public port: listened to (started), unreferenced until the worker has 'message' listeners.
    port1.on('message', state.forward);
    port1.on('messageerror', (error: unknown) => emit.call(this, 'messageerror', error));
    port1.unref();
    states.set(this, state);

    const flag = new Int32Array(carrier, STATE, 1);
    const tokens = new Float64Array(carrier, TOKENS_AT);
    let published = -1;
    try {
      tokens[0] = detachPort(port2).token;
      // After Node accepted the options, as Node detaches its ports once serialized.
      listed.forEach((port, i) => (tokens[i + 1] = detachPort(port as MessagePort).token));
      published = this.threadId;
    } finally {
      state.tokens = Array.from(tokens).filter((t) => t > 0);
      Atomics.store(flag, 0, published);
      Atomics.notify(flag, 0);
      if (published === -1) void this.terminate();
    }
  }

  /**
   * As Node's: posts on the worker's `parentPort`, with Node's validation and
   * errors; ringport ports, Node's ports and ArrayBuffers may be transferred.
   * After the worker exited it does nothing.
   */
  override postMessage(value: unknown, transferList?: readonly WorkerTransferItem[]): void;
  override postMessage(...args: unknown[]): void {
    const port = states.get(this)?.port;
    if (port === null || port === undefined) return;
    (port.postMessage as (...a: unknown[]) => unknown).apply(port, args);
  }

  override ref(): void {
    super.ref();
    states.get(this)?.port?.ref();
  }

  override unref(): void {
    super.unref();
    states.get(this)?.port?.unref();
  }

  // Node's setupPortReferencing: the first 'message' listener refs and starts
  // the port, removing the last one stops and unrefs it.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if ((event === 'newListener' || event === 'removeListener') && args[0] === 'message') {
      const state = states.get(this);
      if (state?.port) {
        const none = this.listenerCount('message') === 0;
        if (event === 'newListener' && none) {
          if (state.forwarding) state.port.ref();
          else state.port.on('message', state.forward);
          state.forwarding = true;
        } else if (event === 'removeListener' && none && state.forwarding) {
          state.port.off('message', state.forward);
          state.forwarding = false;
        }
      }
    }
    return super.emit(event, ...args);
  }
}

// Before 'exit' Node delivers every message the worker posted: so does
// ringport, then closes its end and takes back the handles nobody attached.
if (kOnExit !== undefined) {
  const nodeOnExit = (NodeWorker.prototype as unknown as Record<symbol, (...args: unknown[]) => unknown>)[kOnExit];
  Object.defineProperty(Worker.prototype, kOnExit, {
    value: function (this: Worker, ...args: unknown[]): unknown {
      const state = states.get(this);
      const port = state?.port;
      if (state !== undefined && port) {
        for (;;) {
          let received: { message: unknown } | undefined;
          try {
            received = receiveMessageOnPort(port);
          } catch (error) {
            this.emit('messageerror', error);
            continue;
          }
          if (received === undefined) break;
          this.emit('message', received.message);
        }
        state.port = null;
        port.close();
        for (const token of state.tokens) {
          try {
            attachPort({ ringport: 'MessagePort', token }).close();
          } catch {
            // Attached by the worker: its exit closed it.
          }
        }
      }
      return nodeOnExit.apply(this, args);
    },
    writable: true,
    configurable: true,
  });
}

Object.defineProperty(Worker, 'length', { value: 1 });

/** In a worker started by ringport's Worker: its end of the channel, and workerData with its ports attached. */
function adopt(): { parentPort: MessagePort; workerData: unknown } | null {
  if (wt.isMainThread) return null;
  const carrier: unknown = wt.getEnvironmentData(KEY);
  if (!(carrier instanceof SharedArrayBuffer)) return null;
  // This thread's own workers must not inherit it.
  wt.setEnvironmentData(KEY, undefined as unknown as wt.Serializable);
  const flag = new Int32Array(carrier, STATE, 1);
  // The parent publishes right after the thread started; bounded, in case it failed mid-way.
  for (let i = 0; i < 100 && Atomics.load(flag, 0) === 0; i++) Atomics.wait(flag, 0, 0, 50);
  if (Atomics.load(flag, 0) !== wt.threadId) return null;
  const tokens = new Float64Array(carrier, TOKENS_AT);
  const parentPort = attachPort({ ringport: 'MessagePort', token: tokens[0] });
  let workerData: unknown = wt.workerData;
  if (tokens.length > 1) {
    const ports = Array.from(tokens.subarray(1), (token) => attachPort({ ringport: 'MessagePort', token }));
    workerData = restorePorts(workerData, ports);
    // Node's own export names the same value (changed in place, unless it was a port itself).
    if (workerData !== wt.workerData) (wt as { workerData: unknown }).workerData = workerData;
  }
  return { parentPort, workerData };
}

const adopted = adopt();

/**
 * In a worker started by ringport's Worker, its ringport port to the parent;
 * in a worker started by Node's Worker, Node's `parentPort`; null in the main
 * thread.
 */
export const parentPort: MessagePort | null = adopted ? adopted.parentPort : (wt.parentPort as unknown as MessagePort | null);

/** The worker's `workerData` (ringport ports listed in the parent's `transferList` attached); null in the main thread. */
export const workerData: unknown = adopted ? adopted.workerData : wt.workerData;
