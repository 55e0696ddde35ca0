// Structured clone, encoding side: V8 ValueSerializer semantics (what Node's
// MessagePort sends), written straight into ring memory. Format: format.ts.
import { types } from 'node:util';
import { constants as bufferConstants } from 'node:buffer';
import type { Transferable as NodeTransferable } from 'node:worker_threads';

import { dataCloneError, missingTransferable } from '../errors';
import { describe } from './describe';
import { ErrorField, ErrorKind, Tag, ViewFlags, ViewKind } from './format';
import {
  arrayBufferByteLength,
  arrayBufferMaxByteLength,
  arrayBufferResizable,
  arrayBufferSlice,
  bigIntValueOf,
  booleanValueOf,
  dataViewBuffer,
  dataViewByteLength,
  dataViewByteOffset,
  dateGetTime,
  getOwnPropertyDescriptor,
  getPrototypeOf,
  hasOwnProperty,
  isArray,
  isView,
  mapForEach,
  numberValueOf,
  objectKeys,
  ObjectPrototype,
  regExpFlags,
  regExpSource,
  setForEach,
  stringIsWellFormed,
  stringValueOf,
  typedArrayBuffer,
  typedArrayByteOffset,
  typedArrayLength,
  typedArrayTag,
  latin1Write,
  ucs2Write,
  utf8Write,
} from './intrinsics';

/**
 * Deepest nesting a message may have. Node's limits come from its stack: its
 * serializer takes about 3100 nested objects, its deserializer about 1950
 * (deeper messages are sent, and the receiver gets 'messageerror').
 */
export const MAX_DEPTH = 3000;
export const MAX_DECODE_DEPTH = 1950;

/** What the port layer tells the encoder about the message being sent. */
export interface EncodeContext {
  /** ringport ports listed in the transfer list, in order. */
  readonly ports: readonly object[];
  /** Whether `value` is a ringport MessagePort. */
  isPort(value: object): boolean;
  /** The error for a port in the value but not in the transfer list. */
  missingPort(value: object): Error;
  /** Whether only Node's serializer can carry `value` (SharedArrayBuffer, WebAssembly, Node host objects). */
  isForeign(value: object): boolean;
  /** Adds a value Node's serializer carries beside the ring; returns its index. */
  foreign(value: object): number;
  /** For a transferred ArrayBuffer Node moves without copying: its foreign index; -1 to copy it through the ring. */
  movedBuffer(buffer: ArrayBuffer): number;
  /** Whether `buffer` is in the transfer list (a detached one then arrives empty, as in Node). */
  isTransferred(buffer: ArrayBuffer): boolean;
}

const VIEW_KINDS: Record<string, ViewKind> = {
  Int8Array: ViewKind.Int8,
  Uint8Array: ViewKind.Uint8,
  Uint8ClampedArray: ViewKind.Uint8Clamped,
  Int16Array: ViewKind.Int16,
  Uint16Array: ViewKind.Uint16,
  Int32Array: ViewKind.Int32,
  Uint32Array: ViewKind.Uint32,
  Float32Array: ViewKind.Float32,
  Float64Array: ViewKind.Float64,
  BigInt64Array: ViewKind.BigInt64,
  BigUint64Array: ViewKind.BigUint64,
};

const ERROR_KINDS: Record<string, ErrorKind> = {
  EvalError: ErrorKind.EvalError,
  RangeError: ErrorKind.RangeError,
  ReferenceError: ErrorKind.ReferenceError,
  SyntaxError: ErrorKind.SyntaxError,
  TypeError: ErrorKind.TypeError,
  URIError: ErrorKind.URIError,
};

// Objects V8 refuses to clone although JavaScript sees ordinary prototypes:
// built-in iterators, and the few built-ins util.types has no check for.
const UNCLONEABLE_PROTOTYPES: ReadonlySet<object> = new Set<object>(
  [
    getPrototypeOf([][Symbol.iterator]()),
    getPrototypeOf(''[Symbol.iterator]()),
    getPrototypeOf(/a/[Symbol.matchAll]('')),
    typeof WeakRef === 'function' ? WeakRef.prototype : null,
    typeof FinalizationRegistry === 'function' ? FinalizationRegistry.prototype : null,
    // Intl's constructors are not enumerable.
    ...Object.getOwnPropertyNames(Intl).map((name) => {
      const v = (Intl as unknown as Record<string, unknown>)[name];
      return typeof v === 'function' && typeof v.prototype === 'object' ? (v.prototype as object) : null;
    }),
  ].filter((p): p is object => p !== null),
);

function uncloneable(value: object): boolean {
  if (
    types.isPromise(value) ||
    types.isWeakMap(value) ||
    types.isWeakSet(value) ||
    types.isMapIterator(value) ||
    types.isSetIterator(value) ||
    types.isGeneratorObject(value) ||
    types.isArgumentsObject(value) ||
    types.isModuleNamespaceObject(value) ||
    types.isExternal(value) ||
    value === globalThis
  ) {
    return true;
  }
  for (let p = getPrototypeOf(value) as object | null; p !== null; p = getPrototypeOf(p) as object | null) {
    if (UNCLONEABLE_PROTOTYPES.has(p)) return true;
  }
  return false;
}

// Per prototype: whether its instances are host objects (see isHostObject).
const hostPrototypes = new WeakMap<object, boolean>();
const functionToString = Function.prototype.toString;
const NATIVE_CODE = /\{\s*\[native code\]\s*\}\s*$/;

/**
 * Whether `object` is a native (host) object of Node's, which only Node's
 * serializer can handle. Asked once per prototype.
 */
function isHostObject(object: object): boolean {
  const proto = getPrototypeOf(object) as object | null;
  if (proto !== null) {
    const known = hostPrototypes.get(proto);
    if (known !== undefined) return known;
  }
  // Instances of classes made in C++ (a constructor whose source is
  // "[native code]"); the JavaScript built-ins were recognized earlier.
  const ctor = proto === null ? undefined : getOwnPropertyDescriptor(proto, 'constructor')?.value;
  let host = typeof ctor === 'function' && NATIVE_CODE.test(functionToString.call(ctor));
  if (!host) {
    // Transferable ones: a duplicate in a transfer list.
    try {
      structuredClone(undefined, { transfer: [object, object] as unknown as NodeTransferable[] });
    } catch (error) {
      host = (error as Error).name === 'DataCloneError';
    }
  }
  if (proto !== null) hostPrototypes.set(proto, host);
  return host;
}

function cannotClone(value: unknown): Error {
  if (value !== null && (typeof value === 'object' || typeof value === 'function') && types.isProxy(value)) {
    // V8 describes a Proxy by its target, which JavaScript cannot reach; its
    // own serializer words the error (without running a trap).
    try {
      structuredClone(value);
    } catch (error) {
      const message = (error as { message?: unknown } | null)?.message;
      if (typeof message === 'string') return dataCloneError(message);
    }
  }
  return dataCloneError(`${describe(value)} could not be cloned.`);
}

function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return n >>> 0 === n && n !== 4294967295 && String(n) === key;
}

// Node decodes at most MAX_STRING_LENGTH bytes of UTF-8 into one string; a
// longer text goes as UTF-16.
const MAX_UTF8_CHARS = Math.floor(bufferConstants.MAX_STRING_LENGTH / 3);
const NOT_LATIN1 = /[^\u0000-\u00ff]/;

const LINEAR_IDS = 16;
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
const NO_CONTEXT: EncodeContext = {
  ports: [],
  isPort: () => false,
  missingPort: () => missingTransferable(),
  isForeign: () => false,
  foreign(value: object): never {
    throw cannotClone(value);
  },
  movedBuffer: () => -1,
  isTransferred: () => false,
};

/**
 * Encodes one message at a time. The owner points it at the free space of a
 * ring segment (begin); when that is too small, or when another message must
 * go first (a getter that posts on the same port), what was written moves to
 * an internal scratch buffer (spill) and the owner copies it out at the end.
 */
export class Encoder {
  u8: Uint8Array<ArrayBufferLike> = EMPTY;
  dv: DataView<ArrayBufferLike> = EMPTY_VIEW;
  /** Next byte to write. */
  pos = 0;
  /** End of the writable space. */
  end = 0;
  /** Where this message started in `u8`. */
  start = 0;
  /** Whether the message now lives in the scratch buffer. */
  spilled = false;

  private scratch: Uint8Array<ArrayBufferLike> = new Uint8Array(256);
  private scratchView: DataView<ArrayBufferLike> = new DataView(this.scratch.buffer);
  private context: EncodeContext = NO_CONTEXT;
  private objects: object[] = [];
  private objectCount = 0;
  private objectIds: Map<object, number> | null = null;
  private depth = 0;
  // Object.prototype without enumerable properties lets for-in list own keys.
  private plainPrototypeClean = true;

  begin(
    u8: Uint8Array<ArrayBufferLike>,
    dv: DataView<ArrayBufferLike>,
    start: number,
    end: number,
    context: EncodeContext,
  ): void {
    this.u8 = u8;
    this.dv = dv;
    this.start = start;
    this.pos = start;
    this.end = end;
    this.spilled = false;
    this.context = context;
    this.depth = 0;
    this.plainPrototypeClean = true;
    for (const _ in EMPTY_OBJECT) {
      this.plainPrototypeClean = false;
      break;
    }
  }

  /** Drops every reference the last message held. */
  finish(): void {
    const objects = this.objects;
    for (let i = 0; i < this.objectCount && i < LINEAR_IDS; i++) objects[i] = EMPTY_OBJECT;
    this.objectCount = 0;
    this.objectIds = null;
    this.context = NO_CONTEXT;
    if (this.scratch.length > 1 << 20) this.setScratch(new Uint8Array(256));
  }

  /** Bytes written for the current message. */
  get size(): number {
    return this.pos - this.start;
  }

  /** Makes room for `n` more bytes, moving the message to scratch space if needed. */
  spill(n: number): void {
    const used = this.pos - this.start;
    const need = used + n;
    if (!this.spilled || need > this.scratch.length) {
      let capacity = this.scratch.length;
      while (capacity < need) capacity *= 2;
      const target = capacity === this.scratch.length && !this.spilled ? this.scratch : new Uint8Array(capacity);
      target.set(this.u8.subarray(this.start, this.pos), 0);
      if (target !== this.scratch) this.setScratch(target);
    }
    this.u8 = this.scratch;
    this.dv = this.scratchView;
    this.start = 0;
    this.pos = used;
    this.end = this.scratch.length;
    this.spilled = true;
  }

  private setScratch(buffer: Uint8Array<ArrayBufferLike>): void {
    this.scratch = buffer;
    this.scratchView = new DataView(buffer.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n > this.end) this.spill(n);
  }

  writeByte(b: number): void {
    this.ensure(1);
    this.u8[this.pos++] = b;
  }

  writeVarint(n: number): void {
    this.ensure(5);
    const u8 = this.u8;
    let p = this.pos;
    while (n >= 0x80) {
      u8[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    u8[p++] = n;
    this.pos = p;
  }

  /** Reserves `n` bytes to be filled later; returns their offset from the message start. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos - this.start;
    this.pos += n;
    return at;
  }

  writeValue(value: unknown): void {
    switch (typeof value) {
      case 'number':
        this.writeNumber(value);
        return;
      case 'string':
        this.writeString(value);
        return;
      case 'boolean':
        this.writeByte(value ? Tag.True : Tag.False);
        return;
      case 'undefined':
        this.writeByte(Tag.Undefined);
        return;
      case 'object':
        if (value === null) this.writeByte(Tag.Null);
        else this.writeObject(value);
        return;
      case 'bigint':
        this.writeByte(Tag.BigInt);
        this.writeBigIntBody(value);
        return;
      default:
        // functions and symbols
        throw cannotClone(value);
    }
  }

  private writeNumber(n: number): void {
    this.ensure(9);
    const p = this.pos;
    if ((n | 0) === n && (n !== 0 || 1 / n > 0)) {
      this.u8[p] = Tag.Int32;
      this.dv.setInt32(p + 1, n, true);
      this.pos = p + 5;
    } else {
      this.u8[p] = Tag.Double;
      this.dv.setFloat64(p + 1, n, true);
      this.pos = p + 9;
    }
  }

  writeString(s: string): void {
    const n = s.length;
    if (n < 128) {
      // Tag, one varint byte, then Latin-1 unless a code unit needs two bytes.
      this.ensure(2 + 2 * n);
      const u8 = this.u8;
      const p = this.pos;
      u8[p + 1] = n;
      let q = p + 2;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) {
          this.writeUtf16Short(s, p);
          return;
        }
        u8[q++] = c;
      }
      u8[p] = Tag.Latin1;
      this.pos = q;
      return;
    }
    if (n <= MAX_UTF8_CHARS && stringIsWellFormed.call(s)) {
      // UTF-8 is compact for the common case and exact for well-formed text
      // (up to the size a string can be decoded from).
      const max = 3 * n;
      this.ensure(5 + max);
      const p = this.pos;
      const written = utf8Write.call(this.u8, s, p + 5, max);
      this.u8[p] = Tag.Utf8;
      this.dv.setUint32(p + 1, written, true);
      this.pos = p + 5 + written;
      return;
    }
    if (n > MAX_UTF8_CHARS && !NOT_LATIN1.test(s)) {
      // Too long for UTF-8 and one byte per unit: Latin-1 keeps it within a record.
      this.writeByte(Tag.Latin1);
      this.writeVarint(n);
      this.ensure(n);
      this.pos += latin1Write.call(this.u8, s, this.pos, n);
      return;
    }
    this.writeByte(Tag.Utf16);
    this.writeVarint(n);
    this.ensure(2 * n);
    this.pos += ucs2Write.call(this.u8, s, this.pos, 2 * n);
  }

  private writeUtf16Short(s: string, p: number): void {
    const u8 = this.u8;
    const n = s.length;
    u8[p] = Tag.Utf16;
    let q = p + 2;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      u8[q++] = c & 0xff;
      u8[q++] = c >>> 8;
    }
    this.pos = q;
  }

  private writeBigIntBody(value: bigint): void {
    const negative = value < 0n;
    this.writeByte(negative ? 1 : 0);
    this.writeString((negative ? -value : value).toString(16));
  }

  private idOf(object: object): number {
    const objects = this.objects;
    const linear = this.objectCount < LINEAR_IDS ? this.objectCount : LINEAR_IDS;
    for (let i = 0; i < linear; i++) if (objects[i] === object) return i;
    if (this.objectIds !== null) {
      const id = this.objectIds.get(object);
      if (id !== undefined) return id;
    }
    return -1;
  }

  private remember(object: object): void {
    const id = this.objectCount++;
    if (id < LINEAR_IDS) {
      this.objects[id] = object;
    } else {
      if (this.objectIds === null) this.objectIds = new Map();
      this.objectIds.set(object, id);
    }
  }

  private writeObject(object: object): void {
    const id = this.idOf(object);
    if (id >= 0) {
      this.writeByte(Tag.Ref);
      this.writeVarint(id);
      return;
    }
    if (types.isProxy(object)) throw cannotClone(object);
    this.remember(object);
    if (++this.depth > MAX_DEPTH) throw new RangeError('Maximum call stack size exceeded');
    if (isArray(object)) {
      this.writeArray(object as unknown[]);
      this.depth--;
      return;
    }
    const proto = getPrototypeOf(object) as object | null;
    if (proto === ObjectPrototype && this.plainPrototypeClean) {
      if (types.isArgumentsObject(object)) throw cannotClone(object);
      // The common case, written here rather than in writePlainObject: one
      // stack frame less per level lets messages nest as deep as Node's.
      this.writeByte(Tag.Object);
      const record = object as Record<string, unknown>;
      for (const key in record) {
        this.writeString(key);
        this.writeValue(record[key]);
      }
      this.writeByte(Tag.End);
    } else if (proto === ObjectPrototype) {
      if (types.isArgumentsObject(object)) throw cannotClone(object);
      this.writePlainObject(object, true);
    } else if (proto === null) {
      if (types.isModuleNamespaceObject(object)) throw cannotClone(object);
      this.writePlainObject(object, true);
    } else {
      this.writeSpecialObject(object);
    }
    this.depth--;
  }

  private writePlainObject(object: object, ownKeysOnly: boolean): void {
    this.writeByte(Tag.Object);
    const record = object as Record<string, unknown>;
    if (ownKeysOnly && this.plainPrototypeClean) {
      // for-in lists own enumerable string keys in Object.keys order and skips
      // keys a getter deleted on the way, as V8's serializer does.
      for (const key in record) {
        this.writeString(key);
        this.writeValue(record[key]);
      }
    } else {
      const keys = objectKeys(record);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (!hasOwnProperty.call(record, key)) continue;
        this.writeString(key);
        this.writeValue(record[key]);
      }
    }
    this.writeByte(Tag.End);
  }

  private writeArray(array: unknown[]): void {
    const length = array.length;
    this.writeByte(Tag.Array);
    this.writeVarint(length);
    let present = 0;
    let holeRun = 0;
    let i = 0;
    for (; i < length; i++) {
      // A hole reads as undefined: only then ask whether the element exists
      // (unobservable reordering for ordinary arrays; Proxies were refused).
      const value = array[i];
      if (value !== undefined || i in array) {
        this.writeValue(value);
        present++;
        holeRun = 0;
      } else {
        this.writeByte(Tag.Hole);
        // A long run of holes: the array is sparse; list its keys instead of
        // walking every index.
        if (++holeRun === 32) {
          this.writeSparseTail(array, i + 1, length);
          return;
        }
      }
    }
    // Extra named properties (a RegExp match result's index/input/groups...).
    const keys = objectKeys(array);
    if (keys.length > present) this.writeNamedKeys(array, keys);
    this.writeByte(Tag.End);
  }

  private writeSparseTail(array: unknown[], from: number, length: number): void {
    const keys = objectKeys(array);
    let cursor = from; // the decoder's next element index
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      if (!isArrayIndex(key)) continue;
      const index = Number(key);
      if (index < from || !hasOwnProperty.call(array, key)) continue;
      if (index !== cursor) {
        this.writeByte(Tag.SkipTo);
        this.writeVarint(index);
      }
      this.writeValue(array[index]);
      cursor = index + 1;
    }
    if (cursor !== length) {
      this.writeByte(Tag.SkipTo);
      this.writeVarint(length);
    }
    this.writeNamedKeys(array, keys);
    this.writeByte(Tag.End);
  }

  private writeNamedKeys(array: unknown[], keys: string[]): void {
    const record = array as unknown as Record<string, unknown>;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      if (isArrayIndex(key) || !hasOwnProperty.call(record, key)) continue;
      this.writeString(key);
      this.writeValue(record[key]);
    }
  }

  private writeSpecialObject(object: object): void {
    if (isView(object)) {
      this.writeView(object);
    } else if (types.isArrayBuffer(object)) {
      this.writeArrayBuffer(object);
    } else if (types.isDate(object)) {
      this.ensure(9);
      this.u8[this.pos] = Tag.Date;
      this.dv.setFloat64(this.pos + 1, dateGetTime.call(object), true);
      this.pos += 9;
    } else if (types.isRegExp(object)) {
      this.writeByte(Tag.RegExp);
      this.writeString(regExpSource.call(object));
      this.writeString(regExpFlags.call(object));
    } else if (types.isMap(object)) {
      // V8 copies the entries first: getters run during the writes cannot
      // change what is sent.
      const entries: unknown[] = [];
      mapForEach.call(object, (v: unknown, k: unknown) => entries.push(k, v));
      this.writeByte(Tag.Map);
      for (let i = 0; i < entries.length; i++) this.writeValue(entries[i]);
      this.writeByte(Tag.End);
    } else if (types.isSet(object)) {
      const values: unknown[] = [];
      setForEach.call(object, (v: unknown) => values.push(v));
      this.writeByte(Tag.Set);
      for (let i = 0; i < values.length; i++) this.writeValue(values[i]);
      this.writeByte(Tag.End);
    } else if (types.isNativeError(object)) {
      this.writeError(object as Error);
    } else if (types.isBoxedPrimitive(object)) {
      this.writeBoxed(object);
    } else if (this.context.isPort(object)) {
      const index = this.context.ports.indexOf(object);
      if (index < 0) throw this.context.missingPort(object);
      this.writeByte(Tag.Port);
      this.writeVarint(index);
    } else if (this.context.isForeign(object)) {
      this.writeByte(Tag.Foreign);
      this.writeVarint(this.context.foreign(object));
    } else if (uncloneable(object)) {
      throw cannotClone(object);
    } else if (isHostObject(object)) {
      // A native object of Node's: its serializer decides (clones it, or
      // "Cannot transfer object of unsupported type.").
      this.writeByte(Tag.Foreign);
      this.writeVarint(this.context.foreign(object));
    } else {
      // A class instance: its own enumerable properties, as a plain object.
      this.writePlainObject(object, false);
    }
  }

  private writeBoxed(object: object): void {
    if (types.isNumberObject(object)) {
      this.ensure(9);
      this.u8[this.pos] = Tag.NumberObject;
      this.dv.setFloat64(this.pos + 1, numberValueOf.call(object), true);
      this.pos += 9;
    } else if (types.isStringObject(object)) {
      this.writeByte(Tag.StringObject);
      this.writeString(stringValueOf.call(object));
    } else if (types.isBooleanObject(object)) {
      this.writeByte(Tag.BooleanObject);
      this.writeByte(booleanValueOf.call(object) ? 1 : 0);
    } else if (types.isBigIntObject(object)) {
      this.writeByte(Tag.BigIntObject);
      this.writeBigIntBody(bigIntValueOf.call(object));
    } else {
      throw cannotClone(object); // a Symbol wrapper
    }
  }

  private writeView(view: ArrayBufferView): void {
    let kind: ViewKind;
    let buffer: ArrayBufferLike;
    let byteOffset: number;
    let length: number;
    const dataView = types.isDataView(view);
    if (dataView) {
      kind = ViewKind.DataView;
      buffer = dataViewBuffer.call(view);
      if (!types.isSharedArrayBuffer(buffer) && isDetached(buffer as ArrayBuffer)) {
        throw dataCloneError('An ArrayBuffer is detached and could not be cloned.');
      }
      byteOffset = dataViewByteOffset.call(view);
      length = dataViewByteLength.call(view);
    } else {
      kind = VIEW_KINDS[typedArrayTag.call(view) as string];
      buffer = typedArrayBuffer.call(view);
      byteOffset = typedArrayByteOffset.call(view);
      length = typedArrayLength.call(view);
    }
    if (types.isSharedArrayBuffer(buffer)) {
      // Shared memory goes through Node, the view with it (growable buffers
      // and length-tracking views included).
      this.writeByte(Tag.Foreign);
      this.writeVarint(this.context.foreign(view));
      return;
    }
    const flags = arrayBufferResizable.call(buffer) && isLengthTracking(view, dataView) ? ViewFlags.LengthTracking : 0;
    this.writeByte(Tag.View);
    this.writeByte(kind);
    this.writeByte(flags);
    this.writeVarint(byteOffset);
    this.writeVarint(length);
    // The whole underlying buffer goes with the view, as in V8.
    this.writeObject(buffer);
  }

  private writeArrayBuffer(buffer: ArrayBuffer): void {
    const moved = this.context.movedBuffer(buffer);
    if (moved >= 0) {
      this.writeByte(Tag.Foreign);
      this.writeVarint(moved);
      return;
    }
    const n = arrayBufferByteLength.call(buffer);
    if (n === 0 && isDetached(buffer)) {
      // Listed for transfer, a detached buffer arrives empty, as in Node.
      if (!this.context.isTransferred(buffer)) {
        throw dataCloneError('An ArrayBuffer is detached and could not be cloned.');
      }
      this.writeByte(Tag.ArrayBuffer);
      this.writeVarint(0);
      return;
    }
    if (arrayBufferResizable.call(buffer)) {
      this.writeByte(Tag.ResizableArrayBuffer);
      this.writeVarint(n);
      this.writeVarint(arrayBufferMaxByteLength.call(buffer));
    } else {
      this.writeByte(Tag.ArrayBuffer);
      this.writeVarint(n);
    }
    this.ensure(n);
    this.u8.set(new Uint8Array(buffer, 0, n), this.pos);
    this.pos += n;
  }

  private writeError(error: Error): void {
    // The order of V8's WriteJSError: own data descriptors of message and
    // cause, then name and stack through ordinary (getter-running) reads.
    const message = getOwnPropertyDescriptor(error, 'message');
    const cause = getOwnPropertyDescriptor(error, 'cause');
    this.writeByte(Tag.Error);
    const name = `${(error as { name: unknown }).name}`;
    this.writeByte(ERROR_KINDS[name] ?? ErrorKind.Error);
    if (message !== undefined && 'value' in message) {
      this.writeByte(ErrorField.Message);
      this.writeString(`${message.value}`);
    }
    const stack: unknown = error.stack;
    if (typeof stack === 'string') {
      this.writeByte(ErrorField.Stack);
      this.writeString(stack);
    }
    if (cause !== undefined && 'value' in cause) {
      this.writeByte(ErrorField.Cause);
      this.writeValue(cause.value);
    }
    this.writeByte(ErrorField.End);
  }
}

const EMPTY_OBJECT = {};

/**
 * Whether a view over a resizable buffer follows the buffer's length. No
 * property says so; resizing a copy (structuredClone keeps the flag) shows it
 * without touching the original.
 */
function isLengthTracking(view: ArrayBufferView, dataView: boolean): boolean {
  const copy = structuredClone(view);
  const buffer = copy.buffer as ArrayBuffer & { resize(n: number): void; maxByteLength: number };
  const size = (): number => {
    try {
      return dataView ? (copy as DataView).byteLength : (copy as unknown as { length: number }).length;
    } catch {
      return -1; // a fixed-length DataView out of bounds throws
    }
  };
  const before = size();
  const byteLength = buffer.byteLength;
  const step = dataView ? 1 : (copy as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (buffer.maxByteLength - byteLength >= step) {
    buffer.resize(buffer.maxByteLength);
    return size() !== before;
  }
  // No room to grow: shrink by one element; a fixed view goes out of bounds (0).
  if (byteLength < step || before < 2) return false;
  buffer.resize(byteLength - step);
  return size() === before - 1;
}

function isDetached(buffer: ArrayBuffer): boolean {
  try {
    arrayBufferSlice.call(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}
