// Errors with Node's classes, codes and messages (what postMessage and friends
// throw in node:worker_threads).

import { inspect } from 'node:util';

type ErrorClass = new (message: string) => Error;

/** The " Received …" tail of Node's ERR_INVALID_ARG_TYPE messages. */
export function received(value: unknown): string {
  if (value == null) return ` Received ${value}`;
  if (typeof value === 'function') return ` Received function ${(value as { name?: string }).name}`;
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? ` Received an instance of ${name}` : ` Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof value} (${shown})`;
}

/** An error as Node's C++ throws it: the plain class, with an own enumerable `code`. */
function nodeError(Base: ErrorClass, code: string, message: string): Error {
  const error = new Base(message);
  Object.defineProperty(error, 'code', {
    value: code,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  return error;
}

/**
 * An error as Node's JavaScript throws it (internal/errors.js NodeError):
 * `${name} [${code}]: ${message}` from toString() and in the stack's first
 * line, and an own enumerable `code`.
 */
export function nodeJsError(Base: ErrorClass, code: string, message: string): Error {
  const error = new Base(message);
  const name = error.name;
  // The stack is formatted on first access, with the name of that moment.
  Object.defineProperty(error, 'name', { value: `${name} [${code}]`, configurable: true, writable: true });
  void error.stack;
  delete (error as { name?: string }).name;
  Object.defineProperty(error, 'toString', {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false,
    writable: true,
    configurable: true,
  });
  (error as Error & { code: string }).code = code;
  return error;
}

/** Node's JavaScript ERR_INVALID_ARG_TYPE: `The "name" property|argument must be <expected>. Received …`. */
export function invalidArgTypeJs(name: string, expected: string, value: unknown): Error {
  const kind = name.includes('.') ? 'property' : 'argument';
  return nodeJsError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${kind} must be ${expected}.${received(value)}`);
}

/** What V8 throws when a native method gets the wrong receiver. */
export function illegalInvocation(): Error {
  return new TypeError('Illegal invocation');
}

export function missingArgs(message: string): Error {
  return nodeError(TypeError, 'ERR_MISSING_ARGS', message);
}

/** Node's ERR_OUT_OF_RANGE: `The value of "name" is out of range. It must be <range>. Received <value>`. */
export function outOfRange(name: string, range: string, value: number): Error {
  return nodeJsError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${value}`);
}

export function invalidArgType(message: string): Error {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', message);
}

export function closedMessagePort(): Error {
  return nodeError(Error, 'ERR_CLOSED_MESSAGE_PORT', 'Cannot send data on closed MessagePort');
}

export function invalidTransferObject(): Error {
  return nodeError(TypeError, 'ERR_INVALID_TRANSFER_OBJECT', 'Found invalid object in transferList');
}

export function missingTransferable(): Error {
  return nodeError(
    TypeError,
    'ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST',
    'Object that needs transfer was found in message but not listed in transferList',
  );
}

export function constructCallInvalid(): Error {
  return nodeError(TypeError, 'ERR_CONSTRUCT_CALL_INVALID', 'Constructor cannot be called');
}

export function constructCallRequired(): Error {
  return nodeError(TypeError, 'ERR_CONSTRUCT_CALL_REQUIRED', 'Cannot call constructor without `new`');
}

/** A DOMException named DataCloneError (code 25), as V8 and Node throw it. */
export function dataCloneError(message: string): Error {
  return new DOMException(message, 'DataCloneError');
}

/** What V8 throws when a message cannot be read back. */
export function deserializeError(): Error {
  return new Error('Unable to deserialize cloned data.');
}
