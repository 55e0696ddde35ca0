'use strict';
// describe(value): a JSON-able, deterministic picture of a value, precise
// enough to tell two structured clones apart: types, prototype chains,
// Object.prototype.toString tags, own property names and descriptors (string
// and symbol keys, getters never invoked), -0, NaN, holes, Map/Set contents,
// typed-array kinds and bytes, buffer sharing, Error class/name/code/message,
// and object identity (shared and circular references become { ref }).
const crypto = require('node:crypto');
const { types } = require('node:util');

const objectToString = Object.prototype.toString;
const BYTES_INLINE = 64;

function primitive(value) {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    case 'number':
      return `number:${Object.is(value, -0) ? '-0' : String(value)}`;
    case 'bigint':
      return `bigint:${value}n`;
    case 'string':
      if (value.length > 200) {
        const hash = crypto.createHash('sha1').update(JSON.stringify(value)).digest('hex').slice(0, 16);
        return `string(length=${value.length},sha1=${hash},start=${JSON.stringify(value.slice(0, 20))})`;
      }
      return `string:${JSON.stringify(value)}`;
    case 'symbol':
      return `symbol:${String(value.description)}`;
    default:
      return null;
  }
}

function bytesOf(u8) {
  if (u8.length <= BYTES_INLINE) return Buffer.from(u8.buffer, u8.byteOffset, u8.length).toString('hex');
  const hash = crypto.createHash('sha1').update(u8).digest('hex').slice(0, 16);
  return `${u8.length} bytes, sha1 ${hash}`;
}

/** Constructor names along the prototype chain, read without invoking getters. */
function protoChain(obj) {
  const names = [];
  let p;
  try {
    p = Object.getPrototypeOf(obj);
  } catch {
    return ['<getPrototypeOf threw>'];
  }
  let guard = 0;
  while (p !== null && guard++ < 20) {
    const d = Object.getOwnPropertyDescriptor(p, 'constructor');
    const ctor = d && 'value' in d ? d.value : undefined;
    names.push(typeof ctor === 'function' ? ctor.name || '<anonymous>' : '<no constructor>');
    p = Object.getPrototypeOf(p);
  }
  return names;
}

function keyName(key) {
  return typeof key === 'symbol' ? `[${String(key.description)}]` : key;
}

function flags(d) {
  return ('value' in d ? (d.writable ? 'w' : '-') : 'a') + (d.enumerable ? 'e' : '-') + (d.configurable ? 'c' : '-');
}

function isTypedArrayIndex(key) {
  return typeof key === 'string' && /^(0|[1-9][0-9]*)$/.test(key);
}

class Describer {
  constructor(options = {}) {
    this.isPort = options.isPort || (() => false);
    this.labels = options.labels || new Map();
    this.ids = new Map();
    this.next = 1;
  }

  value(v) {
    const p = primitive(v);
    if (p !== null) return p;
    if (v === null) return 'null';
    return this.object(v);
  }

  props(obj, skip) {
    const out = [];
    let keys;
    try {
      keys = Reflect.ownKeys(obj);
    } catch (e) {
      return [['<ownKeys threw>', '', String(e && e.message)]];
    }
    for (const key of keys) {
      if (skip && skip(key)) continue;
      const d = Object.getOwnPropertyDescriptor(obj, key);
      if (!d) continue;
      if ('value' in d) out.push([keyName(key), flags(d), this.value(d.value)]);
      else out.push([keyName(key), flags(d), `get:${typeof d.get === 'function'},set:${typeof d.set === 'function'}`]);
    }
    return out;
  }

  object(obj) {
    if (this.ids.has(obj)) return { ref: this.ids.get(obj) };
    const id = `#${this.next++}`;
    this.ids.set(obj, id);
    if (types.isProxy(obj)) return { t: 'Proxy', id };
    if (typeof obj === 'function') {
      return { t: 'function', id, name: Object.getOwnPropertyDescriptor(obj, 'name')?.value, length: obj.length };
    }
    const base = { t: '', id, proto: protoChain(obj), tag: objectToString.call(obj) };

    if (this.isPort(obj)) {
      // Port internals differ between implementations: only what a program
      // sees in common (label, enumerable own string keys).
      return {
        t: 'MessagePort',
        id,
        label: this.labels.get(obj) || '<unlabelled port>',
        proto: base.proto,
        own: Object.keys(obj),
      };
    }
    if (typeof Event === 'function' && obj instanceof Event) {
      return { ...base, t: 'Event', type: obj.type };
    }
    if (types.isArrayBuffer(obj)) {
      return {
        ...base,
        t: 'ArrayBuffer',
        byteLength: obj.byteLength,
        resizable: obj.resizable,
        maxByteLength: obj.maxByteLength,
        bytes: bytesOf(new Uint8Array(obj)),
        props: this.props(obj),
      };
    }
    if (types.isSharedArrayBuffer(obj)) {
      return {
        ...base,
        t: 'SharedArrayBuffer',
        byteLength: obj.byteLength,
        growable: obj.growable,
        maxByteLength: obj.maxByteLength,
        bytes: bytesOf(new Uint8Array(obj)),
        props: this.props(obj),
      };
    }
    if (types.isTypedArray(obj)) {
      const kind = Object.getOwnPropertyDescriptor(
        Object.getPrototypeOf(Uint8Array.prototype),
        Symbol.toStringTag,
      ).get.call(obj);
      return {
        ...base,
        t: 'TypedArray',
        kind,
        length: obj.length,
        byteOffset: obj.byteOffset,
        byteLength: obj.byteLength,
        values: obj.length <= 16 ? Array.from(obj, (x) => this.value(x)) : undefined,
        buffer: this.value(obj.buffer),
        props: this.props(obj, isTypedArrayIndex),
      };
    }
    if (types.isDataView(obj)) {
      return {
        ...base,
        t: 'DataView',
        byteOffset: obj.byteOffset,
        byteLength: obj.byteLength,
        buffer: this.value(obj.buffer),
        props: this.props(obj),
      };
    }
    if (types.isDate(obj)) {
      const time = Date.prototype.getTime.call(obj);
      return { ...base, t: 'Date', time: Number.isNaN(time) ? 'NaN' : time, props: this.props(obj) };
    }
    if (types.isRegExp(obj)) {
      return {
        ...base,
        t: 'RegExp',
        source: Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get.call(obj),
        flags: Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags').get.call(obj),
        props: this.props(obj),
      };
    }
    if (types.isMap(obj)) {
      const entries = [];
      for (const [k, v] of Map.prototype.entries.call(obj)) entries.push([this.value(k), this.value(v)]);
      return { ...base, t: 'Map', entries, props: this.props(obj) };
    }
    if (types.isSet(obj)) {
      const values = [];
      for (const v of Set.prototype.values.call(obj)) values.push(this.value(v));
      return { ...base, t: 'Set', values, props: this.props(obj) };
    }
    if (types.isBoxedPrimitive(obj)) {
      let value;
      if (types.isNumberObject(obj)) value = Number.prototype.valueOf.call(obj);
      else if (types.isStringObject(obj)) value = String.prototype.valueOf.call(obj);
      else if (types.isBooleanObject(obj)) value = Boolean.prototype.valueOf.call(obj);
      else if (types.isBigIntObject(obj)) value = BigInt.prototype.valueOf.call(obj);
      else if (types.isSymbolObject(obj)) value = Symbol.prototype.valueOf.call(obj);
      const isString = types.isStringObject(obj);
      return {
        ...base,
        t: 'Boxed',
        value: this.value(value),
        props: this.props(obj, isString ? (k) => isTypedArrayIndex(k) || k === 'length' : undefined),
      };
    }
    if (types.isNativeError(obj) || obj instanceof Error) {
      return this.error(obj, base);
    }
    if (Array.isArray(obj)) {
      return { ...base, t: 'Array', length: obj.length, props: this.props(obj, (k) => k === 'length') };
    }
    if (types.isPromise(obj) || types.isWeakMap(obj) || types.isWeakSet(obj)) {
      return { ...base, t: base.tag };
    }
    return { ...base, t: 'object', props: this.props(obj) };
  }

  error(e, base = { proto: protoChain(e), tag: objectToString.call(e) }) {
    const own = (k) => Object.getOwnPropertyDescriptor(e, k);
    const read = (k) => {
      try {
        return this.value(e[k]);
      } catch (err) {
        return `<${k} getter threw>`;
      }
    };
    let stack;
    const sd = own('stack');
    if (sd && 'value' in sd) stack = typeof sd.value === 'string' ? sd.value.split('\n')[0] : this.value(sd.value);
    else if (sd) stack = '<accessor>';
    else stack = '<none>';
    return {
      t: 'Error',
      id: this.ids.get(e),
      class: base.proto[0],
      proto: base.proto,
      tag: base.tag,
      isNativeError: types.isNativeError(e),
      instanceofError: e instanceof Error,
      instanceofDOMException: typeof DOMException === 'function' && e instanceof DOMException,
      name: read('name'),
      message: read('message'),
      code: read('code'),
      stackFirstLine: stack,
      // Own properties other than stack (its frames differ between implementations).
      props: this.props(e, (k) => k === 'stack'),
    };
  }
}

/** A JSON-able description of `value`; options: { isPort(value), labels: Map<port, name> }. */
function describe(value, options) {
  return new Describer(options).value(value);
}

/** A short, comparable description of a thrown value: class, name, code, message. */
function describeError(e, options) {
  if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return { thrownPrimitive: describe(e) };
  const d = new Describer(options);
  const full = d.value(e);
  if (full.t !== 'Error') return { thrownNonError: full };
  let ctorName;
  try {
    ctorName = typeof e.constructor === 'function' ? e.constructor.name : typeof e.constructor;
  } catch {
    ctorName = '<constructor getter threw>';
  }
  let text;
  try {
    text = String(e);
  } catch {
    text = '<String() threw>';
  }
  return {
    class: ctorName,
    name: full.name,
    code: full.code,
    message: full.message,
    instanceofError: full.instanceofError,
    instanceofDOMException: full.instanceofDOMException,
    isNativeError: full.isNativeError,
    toString: text,
    enumerableKeys: Object.keys(e),
  };
}

module.exports = { describe, describeError, protoChain };
