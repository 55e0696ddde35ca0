// Ringport ports inside a Worker's workerData. Node's serializer clones a
// ringport port as a plain `{}`, so before Node sees workerData each listed
// port is replaced by a marker, and the worker puts the attached port back in
// its place. Only the containers on a path to a port are copied: everything
// else reaches Node's serializer untouched, identity and cycles included.
import { types } from 'node:util';

import { NodeMessagePort } from './node-internals';

const MARK = 'WorkerDataPort';

/** What stands for the port at `index` of the listed ports while Node clones workerData. */
interface Marker {
  ringport: typeof MARK;
  index: number;
}

/** A container whose entries are walked: plain and class objects, arrays, Maps, Sets. */
type Kind = 'object' | 'array' | 'map' | 'set';

interface Node {
  kind: Kind;
  /** object/array: [key, value]; map: [key, value]; set: [value, value]. Read once, so getters run once here. */
  entries: [unknown, unknown][];
  parents: Node[];
  dirty: boolean;
  copy: object | null;
  length: number;
}

function kindOf(value: object): Kind | null {
  // Node's serializer rejects proxies and functions, and clones these
  // built-ins by their internal slots, not by their properties.
  if (typeof value === 'function' || types.isProxy(value)) return null;
  if (Array.isArray(value)) return 'array';
  if (types.isMap(value)) return 'map';
  if (types.isSet(value)) return 'set';
  if (
    types.isArrayBufferView(value) ||
    types.isAnyArrayBuffer(value) ||
    types.isDate(value) ||
    types.isRegExp(value) ||
    types.isBoxedPrimitive(value) ||
    types.isNativeError(value) ||
    value instanceof NodeMessagePort
  ) {
    return null;
  }
  return 'object';
}

function entriesOf(value: object, kind: Kind): [unknown, unknown][] {
  switch (kind) {
    case 'map':
      return [...Map.prototype.entries.call(value)];
    case 'set':
      return [...Set.prototype.values.call(value)].map((v) => [v, v]);
    default:
      return Object.keys(value).map((key) => [key, (value as Record<string, unknown>)[key]]);
  }
}

/**
 * `value` with every ringport port (`isPort`) replaced by a marker naming its
 * place in `listed`. A port found that is not listed throws `unlisted(port)`,
 * as posting it would. Returns `value` itself when it holds no port.
 */
export function replacePorts(
  value: unknown,
  listed: readonly object[],
  isPort: (value: unknown) => boolean,
  unlisted: (port: object) => Error,
): unknown {
  if (isPort(value)) {
    const index = listed.indexOf(value as object);
    if (index < 0) throw unlisted(value as object);
    return { ringport: MARK, index } satisfies Marker;
  }
  if (typeof value !== 'object' || value === null) return value;
  const nodes = new Map<object, Node>();
  const markers = new Map<object, Marker>();
  const holders: Node[] = [];
  // Depth-first without recursion: workerData may nest deeper than the stack.
  const stack: [object, Node | null][] = [[value, null]];
  while (stack.length > 0) {
    const [object, parent] = stack.pop() as [object, Node | null];
    const seen = nodes.get(object);
    if (seen !== undefined) {
      if (parent !== null) seen.parents.push(parent);
      continue;
    }
    const kind = kindOf(object);
    if (kind === null) continue;
    const node: Node = {
      kind,
      entries: entriesOf(object, kind),
      parents: parent === null ? [] : [parent],
      dirty: false,
      copy: null,
      length: kind === 'array' ? (object as unknown[]).length : 0,
    };
    nodes.set(object, node);
    let holds = false;
    for (const [key, item] of node.entries) {
      for (const x of kind === 'map' ? [key, item] : [item]) {
        if (typeof x !== 'object' || x === null) continue;
        if (isPort(x)) {
          const index = listed.indexOf(x);
          if (index < 0) throw unlisted(x);
          if (!markers.has(x)) markers.set(x, { ringport: MARK, index });
          holds = true;
        } else {
          stack.push([x, node]);
        }
      }
    }
    if (holds) holders.push(node);
  }
  if (holders.length === 0) return value;
  // Every container from which a port is reachable is copied.
  const work = [...holders];
  while (work.length > 0) {
    const node = work.pop() as Node;
    if (node.dirty) continue;
    node.dirty = true;
    work.push(...node.parents);
  }
  for (const node of nodes.values()) {
    if (!node.dirty) continue;
    // Node clones any ordinary object as a plain one: so can the copy.
    node.copy =
      node.kind === 'array' ? new Array<unknown>(node.length) : node.kind === 'map' ? new Map() : node.kind === 'set' ? new Set() : {};
  }
  const swap = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null) return x;
    const marker = markers.get(x);
    if (marker !== undefined) return marker;
    const node = nodes.get(x);
    return node?.dirty ? node.copy : x;
  };
  for (const node of nodes.values()) {
    const copy = node.copy;
    if (copy === null) continue;
    for (const [key, item] of node.entries) {
      if (node.kind === 'map') (copy as Map<unknown, unknown>).set(swap(key), swap(item));
      else if (node.kind === 'set') (copy as Set<unknown>).add(swap(item));
      else (copy as Record<string, unknown>)[key as string] = swap(item);
    }
  }
  return (nodes.get(value) as Node).copy;
}

function isMarker(value: unknown, count: number): value is Marker {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const { ringport, index } = value as Partial<Marker>;
  return ringport === MARK && Number.isInteger(index) && (index as number) >= 0 && (index as number) < count;
}

/**
 * In the worker: puts `ports[i]` where workerData (Node's fresh clone, so
 * it may be changed in place) holds marker i. Returns the new root.
 */
export function restorePorts(value: unknown, ports: readonly unknown[]): unknown {
  const count = ports.length;
  const swap = (x: unknown): unknown => (isMarker(x, count) ? ports[x.index] : x);
  if (isMarker(value, count)) return ports[value.index];
  if (typeof value !== 'object' || value === null) return value;
  const seen = new Set<object>();
  const stack: object[] = [value];
  while (stack.length > 0) {
    const object = stack.pop() as object;
    if (seen.has(object)) continue;
    seen.add(object);
    const kind = kindOf(object);
    if (kind === null) continue;
    const entries = entriesOf(object, kind);
    let changed = false;
    for (const [key, item] of entries) {
      for (const x of kind === 'map' ? [key, item] : [item]) {
        if (isMarker(x, count)) changed = true;
        else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    }
    if (!changed) continue;
    if (kind === 'map' || kind === 'set') {
      // Rebuilt in order: a marker may be a key.
      if (kind === 'map') {
        const map = object as Map<unknown, unknown>;
        Map.prototype.clear.call(map);
        for (const [key, item] of entries) Map.prototype.set.call(map, swap(key), swap(item));
      } else {
        const set = object as Set<unknown>;
        Set.prototype.clear.call(set);
        for (const [, item] of entries) Set.prototype.add.call(set, swap(item));
      }
    } else {
      for (const [key, item] of entries) if (isMarker(item, count)) (object as Record<string, unknown>)[key as string] = swap(item);
    }
  }
  return value;
}
