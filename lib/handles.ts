// detachPort() / attachPort(): moving a port between threads through
// anything that structured-clones plain data (workerData, worker.postMessage).
import { native } from './binding';
import { invalidArgType } from './errors';
import { createPort, detach, type MessagePort } from './port';

/** What detachPort() returns: plain data naming a parked port. */
export interface DetachedPort {
  readonly ringport: 'MessagePort';
  readonly token: number;
}

/**
 * Detaches `port` from this thread. The port object becomes unusable (as a
 * transferred port does: it emits 'close'); the returned handle can cross
 * threads inside workerData or a message, and attachPort() turns it back into
 * a live port that receives everything sent meanwhile.
 */
export function detachPort(port: MessagePort): DetachedPort {
  return Object.freeze({ ringport: 'MessagePort' as const, token: detach(port) });
}

function isHandle(value: unknown): value is DetachedPort {
  if (typeof value !== 'object' || value === null) return false;
  const { ringport, token } = value as Partial<DetachedPort>;
  return ringport === 'MessagePort' && typeof token === 'number' && Number.isSafeInteger(token) && token > 0;
}

/** The port behind a handle from detachPort(), attached to this thread. Each handle attaches once. */
export function attachPort(handle: DetachedPort): MessagePort {
  if (!isHandle(handle)) {
    throw invalidArgType('The "handle" argument must be a handle returned by detachPort()');
  }
  const attached = native.attach(handle.token);
  if (attached === null) {
    const error = new Error('This port handle was already attached, or does not name a detached port');
    Object.defineProperty(error, 'code', { value: 'ERR_RINGPORT_HANDLE_INVALID', enumerable: true, writable: true, configurable: true });
    throw error;
  }
  return createPort(attached, null);
}
