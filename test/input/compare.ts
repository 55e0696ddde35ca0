// Structural comparison of two values that came out of a structured clone:
// the same types and prototypes, the same own properties with the same
// attributes, the same Map/Set order, bytes of buffers, -0/NaN, exact code
// units of strings (lone surrogates included), and the same identity
// structure (a shared or circular reference on one side is one on the other).
import { inspect, types } from 'node:util';

const objectToString = Object.prototype.toString;

function show(value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 40, maxArrayLength: 8 });
}

function isIndexOf(key: PropertyKey, length: number): boolean {
  if (typeof key !== 'string') return false;
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < length && String(n) === key;
}

/**
 * The constructor names along the prototype chain ("Uint8Array < TypedArray <
 * Object"), read from data properties only. Names rather than identities: under
 * jest, the test's realm and Node's structuredClone() realm have their own
 * intrinsics.
 */
export function prototypeChain(object: object): string {
  const names: string[] = [];
  for (let p = Object.getPrototypeOf(object) as object | null; names.length < 8; p = Object.getPrototypeOf(p) as object | null) {
    if (p === null) {
      names.push('null');
      break;
    }
    const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as { name?: unknown } | undefined;
    const name = typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : undefined;
    names.push(typeof name === 'string' ? name : '?');
  }
  return names.join(' < ');
}

function bytesOf(buffer: ArrayBufferLike): Uint8Array {
  return new Uint8Array(buffer);
}

/**
 * The first difference between `actual` and `expected`, as "path: what", or
 * null when they are structurally equal.
 */
export function structuralDiff(actual: unknown, expected: unknown): string | null {
  const aToB = new Map<object, object>();
  const bToA = new Map<object, object>();

  function walk(a: unknown, b: unknown, path: string): string | null {
    if (typeof a !== typeof b) return `${path}: typeof ${typeof a} vs ${typeof b} (${show(a)} vs ${show(b)})`;
    if (a === null || b === null || (typeof a !== 'object' && typeof a !== 'function')) {
      if (!Object.is(a, b)) {
        if (typeof a === 'string' && typeof b === 'string') {
          let i = 0;
          while (i < a.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
          return `${path}: strings differ at code unit ${i} (lengths ${a.length}, ${b.length}; 0x${a
            .charCodeAt(i)
            .toString(16)} vs 0x${b.charCodeAt(i).toString(16)})`;
        }
        return `${path}: ${show(a)} vs ${show(b)}`;
      }
      return null;
    }
    const x = a as object;
    const y = b as object;
    const seenX = aToB.get(x);
    const seenY = bToA.get(y);
    if (seenX !== undefined || seenY !== undefined) {
      if (seenX === y && seenY === x) return null;
      return `${path}: identity structure differs (an object met before on one side only)`;
    }
    aToB.set(x, y);
    bToA.set(y, x);
    if (prototypeChain(x) !== prototypeChain(y)) return `${path}: prototype chain ${prototypeChain(x)} vs ${prototypeChain(y)}`;
    const tagX = objectToString.call(x);
    const tagY = objectToString.call(y);
    if (tagX !== tagY) return `${path}: ${tagX} vs ${tagY}`;
    if (Array.isArray(x) !== Array.isArray(y)) return `${path}: array vs non-array`;

    let indexLength = -1; // own index keys of a view are its elements: compared as bytes
    if (types.isDate(x)) {
      if (!Object.is((x as Date).getTime(), (y as Date).getTime())) return `${path}: date ${(x as Date).getTime()} vs ${(y as Date).getTime()}`;
    } else if (types.isRegExp(x)) {
      const r = x as RegExp;
      const s = y as RegExp;
      if (r.source !== s.source || r.flags !== s.flags || r.lastIndex !== s.lastIndex) return `${path}: ${String(r)} vs ${String(s)}`;
    } else if (types.isBoxedPrimitive(x)) {
      const vx = (x as { valueOf(): unknown }).valueOf.call(x);
      const vy = (y as { valueOf(): unknown }).valueOf.call(y);
      if (types.isNumberObject(x)) {
        if (!Object.is(Number.prototype.valueOf.call(x), Number.prototype.valueOf.call(y))) return `${path}: Number object ${show(vx)} vs ${show(vy)}`;
      } else if (types.isStringObject(x)) {
        const d = walk(String.prototype.valueOf.call(x), String.prototype.valueOf.call(y), `${path}.[[StringData]]`);
        if (d !== null) return d;
      } else if (types.isBooleanObject(x)) {
        if (Boolean.prototype.valueOf.call(x) !== Boolean.prototype.valueOf.call(y)) return `${path}: Boolean object differs`;
      } else if (types.isBigIntObject(x)) {
        if (BigInt.prototype.valueOf.call(x) !== BigInt.prototype.valueOf.call(y)) return `${path}: BigInt object differs`;
      }
    } else if (types.isArrayBuffer(x) || types.isSharedArrayBuffer(x)) {
      const bx = x as ArrayBuffer & { resizable?: boolean; maxByteLength?: number };
      const by = y as ArrayBuffer & { resizable?: boolean; maxByteLength?: number };
      if (bx.byteLength !== by.byteLength) return `${path}: byteLength ${bx.byteLength} vs ${by.byteLength}`;
      if (bx.resizable !== by.resizable || bx.maxByteLength !== by.maxByteLength) {
        return `${path}: resizable/maxByteLength ${bx.resizable}/${bx.maxByteLength} vs ${by.resizable}/${by.maxByteLength}`;
      }
      if (Buffer.compare(bytesOf(bx), bytesOf(by)) !== 0) return `${path}: buffer bytes differ`;
    } else if (ArrayBuffer.isView(x)) {
      const vx = x as ArrayBufferView & { length?: number };
      const vy = y as ArrayBufferView & { length?: number };
      if (vx.byteOffset !== vy.byteOffset || vx.byteLength !== vy.byteLength || vx.length !== vy.length) {
        return `${path}: view offset/length ${vx.byteOffset}/${vx.byteLength}/${vx.length} vs ${vy.byteOffset}/${vy.byteLength}/${vy.length}`;
      }
      indexLength = vx.length ?? 0;
      const d = walk(vx.buffer, vy.buffer, `${path}.buffer`);
      if (d !== null) return d;
    } else if (types.isMap(x)) {
      const ex = [...(x as Map<unknown, unknown>)];
      const ey = [...(y as Map<unknown, unknown>)];
      if (ex.length !== ey.length) return `${path}: Map size ${ex.length} vs ${ey.length}`;
      for (let i = 0; i < ex.length; i++) {
        const d = walk(ex[i][0], ey[i][0], `${path}.<key ${i}>`) ?? walk(ex[i][1], ey[i][1], `${path}.<value ${i}>`);
        if (d !== null) return d;
      }
    } else if (types.isSet(x)) {
      const ex = [...(x as Set<unknown>)];
      const ey = [...(y as Set<unknown>)];
      if (ex.length !== ey.length) return `${path}: Set size ${ex.length} vs ${ey.length}`;
      for (let i = 0; i < ex.length; i++) {
        const d = walk(ex[i], ey[i], `${path}.<item ${i}>`);
        if (d !== null) return d;
      }
    }

    const keysX = Reflect.ownKeys(x).filter((k) => !isIndexOf(k, indexLength));
    const keysY = Reflect.ownKeys(y).filter((k) => !isIndexOf(k, indexLength));
    if (keysX.length !== keysY.length || keysX.some((k, i) => k !== keysY[i])) {
      return `${path}: own keys [${keysX.map(String).join(',').slice(0, 200)}] vs [${keysY.map(String).join(',').slice(0, 200)}]`;
    }
    for (const key of keysX) {
      const dx = Object.getOwnPropertyDescriptor(x, key) as PropertyDescriptor;
      const dy = Object.getOwnPropertyDescriptor(y, key) as PropertyDescriptor;
      const where = `${path}.${String(key)}`;
      if ('value' in dx !== 'value' in dy) return `${where}: data vs accessor property`;
      if (dx.enumerable !== dy.enumerable || dx.configurable !== dy.configurable || dx.writable !== dy.writable) {
        return `${where}: attributes e${dx.enumerable}c${dx.configurable}w${dx.writable} vs e${dy.enumerable}c${dy.configurable}w${dy.writable}`;
      }
      if ('value' in dx) {
        const d = walk(dx.value, dy.value, where);
        if (d !== null) return d;
      }
    }
    return null;
  }

  return walk(actual, expected, '$');
}

/** Every object reachable from `value` (own properties, Map/Set contents, view buffers). */
export function reachableObjects(value: unknown): Set<object> {
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v as object)) continue;
    const o = v as object;
    seen.add(o);
    if (types.isProxy(o)) continue;
    if (types.isMap(o)) for (const [k, w] of o as Map<unknown, unknown>) stack.push(k, w);
    if (types.isSet(o)) for (const w of o as Set<unknown>) stack.push(w);
    if (ArrayBuffer.isView(o)) {
      stack.push(o.buffer);
      continue;
    }
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d !== undefined && 'value' in d) stack.push(d.value);
    }
  }
  return seen;
}

/** Throws (with the difference) unless the two values are structurally equal. */
export function expectSameStructure(actual: unknown, expected: unknown, label = ''): void {
  const diff = structuralDiff(actual, expected);
  if (diff !== null) throw new Error(`${label}${label ? ': ' : ''}${diff}`);
}
