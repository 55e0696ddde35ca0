// Errors with Node's classes, codes and messages (what postMessage and friends
// throw in node:worker_threads).

type ErrorClass = new (message: string) => Error;

function nodeError(Base: ErrorClass, code: string, message: string): Error {
  const error = new Base(message);
  // Node's native errors carry `code` as an own enumerable property.
  Object.defineProperty(error, 'code', {
    value: code,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  return error;
}

export function missingArgs(message: string): Error {
  return nodeError(TypeError, 'ERR_MISSING_ARGS', message);
}

export function invalidArgType(message: string): Error {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', message);
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
