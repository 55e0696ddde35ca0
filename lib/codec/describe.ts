// How V8 names a value in "… could not be cloned." (Object::NoSideEffectsToString):
// reads data properties only, so describing a value never runs user code.
import { types } from 'node:util';

const objectToString = Object.prototype.toString;
const errorToString = Error.prototype.toString;
const functionToString = Function.prototype.toString;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const getPrototypeOf = Object.getPrototypeOf;

/** The value of a data property found along the prototype chain; getters and proxies are not touched. */
function dataProperty(object: object, key: PropertyKey): unknown {
  let current: object | null = object;
  for (let hops = 0; current !== null && hops < 1000; hops++) {
    if (types.isProxy(current)) return undefined;
    const descriptor = getOwnPropertyDescriptor(current, key);
    if (descriptor !== undefined) return 'value' in descriptor ? descriptor.value : undefined;
    current = getPrototypeOf(current) as object | null;
  }
  return undefined;
}

function describeError(error: object): string {
  const name = dataProperty(error, 'name');
  const message = dataProperty(error, 'message');
  const n = typeof name === 'string' ? name : 'Error';
  const m = typeof message === 'string' ? message : '';
  if (n === '') return m;
  if (m === '') return n;
  return `${n}: ${m}`;
}

export function describe(value: unknown): string {
  if (typeof value === 'function') {
    if (types.isProxy(value)) return '[object Function]';
    const source = functionToString.call(value);
    // V8 shortens long sources: 111 characters, a marker, the last 2.
    if (source.length > 128) return `${source.slice(0, 111)}...<omitted>...${source.slice(-2)}`;
    return source;
  }
  if (typeof value === 'symbol') return value.toString();
  if (typeof value !== 'object' || value === null) return String(value);
  if (types.isProxy(value)) return Array.isArray(value) ? '[object Array]' : '#<Object>';
  const toString = dataProperty(value, 'toString');
  if (types.isNativeError(value) || toString === errorToString) return describeError(value);
  if (toString === objectToString) {
    const constructor = dataProperty(value, 'constructor');
    if (typeof constructor === 'function') {
      const name = dataProperty(constructor, 'name');
      if (typeof name === 'string' && name !== '') return `#<${name}>`;
    }
  }
  const tag = dataProperty(value, Symbol.toStringTag);
  return `[object ${typeof tag === 'string' ? tag : Array.isArray(value) ? 'Array' : 'Object'}]`;
}
