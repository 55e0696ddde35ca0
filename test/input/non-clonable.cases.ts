// The checks of non-clonable.test.ts. They run in a plain Node process
// (fixtures/run-ts.js), where the values, ringport and Node's serializer
// share one realm as in a user's program; each returns a JSON report that
// the jest test asserts on.
import * as assert from 'node:assert/strict';
import * as wt from 'node:worker_threads';
import fc from 'fast-check';

import { MessageChannel, receiveMessageOnPort } from '../..';
import { structuralDiff } from './compare';
import { drain, thrownBy, type Impl, type Received } from './outcomes';
import { build, SEED, valueRecipe, type ValueRecipe } from './recipes';

const NODE = wt as unknown as Impl;
const RINGPORT: Impl = { MessageChannel, receiveMessageOnPort } as unknown as Impl;

// ---- the non-clonable things ----------------------------------------------------

export const BAD_KINDS = [
  'function',
  'symbol',
  'symbolObject',
  'throwingGetter',
  'throwingAccessorOnError',
  'proxy',
  'weak',
  'promise',
  'iterator',
  'arguments',
  'intl',
  'global',
  'detachedBuffer',
  'deep10k',
  // Clonable after all: Node sends the public fields as a plain object.
  'privateFields',
  // Clonable: records when it runs (the traversal order must be Node's).
  'loggingGetter',
] as const;
export type BadKind = (typeof BAD_KINDS)[number];
export const CLONABLE_KINDS: readonly BadKind[] = ['privateFields', 'loggingGetter'];

interface BadRecipe {
  kind: BadKind;
  variant: number;
}

interface Context {
  /** Values thrown by getters, in order. */
  thrown: unknown[];
  /** Ids of the logging getters that ran, in order. */
  log: string[];
}

class WithPrivateFields {
  #hidden = 1;
  static #count = 0;
  visible: number;
  constructor(n: number) {
    WithPrivateFields.#count++;
    this.visible = n + this.#hidden;
  }
  #method(): number {
    return this.#hidden;
  }
  get viaPrivate(): number {
    return this.#method();
  }
}

class CustomError extends Error {}

const longFunction = new Function(`return function veryLong() { let x = 0; ${'x += 1; '.repeat(30)}return x; }`)() as () => number;

function pick<T>(variant: number, makers: (() => T)[]): T {
  return makers[variant % makers.length]();
}

function makeBad(r: BadRecipe, ctx: Context, id: string): unknown {
  const v = r.variant;
  switch (r.kind) {
    case 'function':
      return pick<unknown>(v, [
        () => function named() {},
        () => () => 1,
        () => async function asyncFn() {},
        () => function* generatorFn() {},
        () => class Klass {},
        () => function bound() {}.bind(null),
        () => Math.max,
        () => ({ method() {} }).method,
        () => Object.getOwnPropertyDescriptor({ get g() { return 1; } }, 'g')?.get,
        // Longer than 128 characters: V8 elides the middle of the source.
        () => longFunction,
      ]);
    case 'symbol':
      return pick(v, [
        () => Symbol('described'),
        () => Symbol(),
        () => Symbol.iterator,
        () => Symbol.for('registered'),
        () => Symbol('x'.repeat(200)),
        () => Symbol('\ud800'),
      ]);
    case 'symbolObject':
      return Object(Symbol('boxed'));
    case 'throwingGetter': {
      const make = pick<() => unknown>(v, [
        () => () => new Error(`thrown by ${id}`),
        () => () => new TypeError(`thrown by ${id}`),
        () => () => new RangeError(`thrown by ${id}`),
        () => () => new CustomError(`thrown by ${id}`),
        () => () => new DOMException(`thrown by ${id}`, 'DataCloneError'),
        () => () => `a string thrown by ${id}`,
        () => () => undefined,
        () => () => null,
        () => () => 42,
      ]);
      return {
        before: 1,
        get [`getter ${id}`]() {
          const e = make();
          ctx.thrown.push(e);
          throw e;
        },
        after: 2,
      };
    }
    case 'throwingAccessorOnError': {
      const e = new Error('with a throwing accessor');
      const field = ['name', 'stack', 'message', 'cause'][v % 4];
      Object.defineProperty(e, field, {
        get() {
          const t = new SyntaxError(`${field} accessor of ${id}`);
          ctx.thrown.push(t);
          throw t;
        },
      });
      return e;
    }
    case 'proxy':
      return pick<object>(v, [
        () => new Proxy({ a: 1 }, {}),
        () => new Proxy([1, 2], {}),
        () => new Proxy(new Proxy([], {}), {}),
        () =>
          new Proxy(
            {},
            {
              get() {
                throw new Error('get trap');
              },
              ownKeys() {
                throw new Error('ownKeys trap');
              },
              getPrototypeOf() {
                throw new Error('getPrototypeOf trap');
              },
            },
          ),
      ]);
    case 'weak':
      return pick<object>(v, [() => new WeakMap(), () => new WeakSet(), () => new WeakRef({}), () => new FinalizationRegistry(() => {})]);
    case 'promise':
      return pick<object>(v, [() => Promise.resolve(1), () => new Promise(() => {})]);
    case 'iterator':
      return pick<object>(v, [
        () => new Map([[1, 2]]).keys(),
        () => new Set([1]).values(),
        () => [1][Symbol.iterator](),
        () => 'ab'[Symbol.iterator](),
        () => (function* gen() {})(),
        () => (async function* agen() {})(),
        () => 'ab'.matchAll(/a/g),
      ]);
    case 'arguments':
      return (function args(..._: unknown[]) {
        // eslint-disable-next-line prefer-rest-params
        return arguments;
      })(1, 2);
    case 'intl':
      return pick<object>(v, [() => new Intl.NumberFormat(), () => new Intl.DateTimeFormat(), () => new Intl.Collator(), () => new Intl.Locale('en')]);
    case 'global':
      return globalThis;
    case 'detachedBuffer': {
      const b = new ArrayBuffer(16);
      // (A DataView over a detached buffer is a known difference: knownDifferences().)
      const value = pick<object>(v, [() => b, () => new Uint8Array(b, 1, 3), () => new Float64Array(b)]);
      structuredClone(b, { transfer: [b] });
      return value;
    }
    case 'deep10k': {
      // 10,000 levels: objects only, or objects, arrays, Maps and Sets in turn.
      let node: unknown = { bottom: true };
      for (let i = 0; i < 10_000; i++) {
        switch (v % 2 === 0 ? 0 : (v + i) % 4) {
          case 0:
            node = { node };
            break;
          case 1:
            node = [node];
            break;
          case 2:
            node = new Map([['k', node]]);
            break;
          default:
            node = new Set([node]);
        }
      }
      return node;
    }
    case 'privateFields':
      return new WithPrivateFields(v);
    case 'loggingGetter':
      return {
        get [`logged ${id}`]() {
          ctx.log.push(id);
          return v;
        },
      };
  }
}

// ---- cases: a clonable value with non-clonable things inserted --------------------------

interface Injection {
  bad: BadRecipe;
  container: number;
  slot: number;
}

export interface Case {
  value: ValueRecipe;
  injections: Injection[];
  /** Posted before the case's value… */
  before: ValueRecipe[];
  /** …and after it. */
  after: ValueRecipe;
}

const badRecipe: fc.Arbitrary<BadRecipe> = fc.record({ kind: fc.constantFrom(...BAD_KINDS), variant: fc.nat(100) });
const caseArb: fc.Arbitrary<Case> = fc.record({
  value: valueRecipe,
  injections: fc.array(fc.record({ bad: badRecipe, container: fc.nat(), slot: fc.nat() }), { minLength: 1, maxLength: 3 }),
  before: fc.array(valueRecipe, { maxLength: 3 }),
  after: valueRecipe,
});

/** Builds the value of a case with its non-clonable things inserted at their places. */
function buildCase(c: Case, ctx: Context): unknown {
  const { value, containers } = build(c.value);
  let root = value;
  c.injections.forEach((inj, i) => {
    const bad = makeBad(inj.bad, ctx, `#${i}`);
    if (containers.length === 0) {
      // A primitive or a leaf object: wrap it.
      root = inj.slot % 2 === 0 ? { value: root, bad } : [bad, root];
      containers.push(root as object);
      return;
    }
    const target = containers[inj.container % containers.length];
    if (Array.isArray(target)) {
      target[inj.slot % (target.length + 1)] = bad;
    } else if (target instanceof Map) {
      if (inj.slot % 2 === 0) target.set(`bad ${i}`, bad);
      else target.set(bad, `bad ${i}`);
    } else if (target instanceof Set) {
      target.add(bad);
    } else {
      const keys = Object.keys(target);
      // Replace an existing property (it keeps its place in key order) or add one.
      const key = inj.slot % 3 !== 0 && keys.length > 0 ? keys[inj.slot % keys.length] : `bad ${i}`;
      Object.defineProperty(target, key, { value: bad, enumerable: true, writable: true, configurable: true });
    }
  });
  return root;
}

interface Run {
  threw: { shape: string; error: unknown } | null;
  ctx: Context;
  received: Received[];
}

/**
 * Builds with Error.stackTraceLimit = 0: each implementation gets its own
 * build of a case (getters, detached buffers), and the stacks of two builds
 * would differ by their line and column.
 */
function stackless<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Posts before…, the case's value, after, on a fresh channel of `impl`; takes everything. */
function runCase(impl: Impl, c: Case): Run {
  const ctx: Context = { thrown: [], log: [] };
  const { port1, port2 } = new impl.MessageChannel();
  try {
    for (const r of c.before) port1.postMessage(stackless(() => build(r).value));
    const value = stackless(() => buildCase(c, ctx));
    const threw = thrownBy(() => port1.postMessage(value));
    port1.postMessage(stackless(() => build(c.after).value));
    return { threw, ctx, received: drain(impl, port2) };
  } finally {
    port1.close();
  }
}

function compareReceived(ours: Received[], node: Received[]): string | null {
  if (ours.length !== node.length) return `ringport delivered ${ours.length} messages, node ${node.length}`;
  for (let i = 0; i < ours.length; i++) {
    const [a, b] = [ours[i], node[i]];
    if (a.ok !== b.ok) return `message ${i}: ringport ${a.ok ? 'delivered it' : a.error}, node ${b.ok ? 'delivered it' : b.error}`;
    if (a.ok && b.ok) {
      const diff = structuralDiff(a.value, b.value);
      if (diff !== null) return `message ${i}: ${diff}`;
    } else if (!a.ok && !b.ok && a.error !== b.error) {
      return `message ${i}: ringport ${a.error}, node ${b.error}`;
    }
  }
  return null;
}

function checkCase(c: Case, ours: Run, node: Run): void {
  assert.equal(ours.threw?.shape ?? 'no error', node.threw?.shape ?? 'no error', 'postMessage outcome');
  // A getter's exception propagates as the very value thrown.
  if (ours.threw !== null && ours.ctx.thrown.length > 0) {
    assert.ok(Object.is(ours.threw.error, ours.ctx.thrown[ours.ctx.thrown.length - 1]), 'not the value the getter threw');
  }
  assert.deepEqual(ours.ctx.log, node.ctx.log, 'getters ran in another order');
  assert.equal(ours.ctx.thrown.length, node.ctx.thrown.length, 'throwing getters ran another number of times');
  const expected = c.before.length + (node.threw === null ? 1 : 0) + 1;
  assert.equal(node.received.length, expected, 'node itself delivered an unexpected number of messages');
  const diff = compareReceived(ours.received, node.received);
  if (diff !== null) assert.fail(diff);
}

export interface PropertyReport {
  seed: number;
  numRuns: number;
  /** Runs that completed their checks. */
  passed: number;
  failed: boolean;
  /** fast-check's report (counterexample, shrunk, cause) when failed. */
  message: string | null;
  stats: Record<string, number>;
}

function report<T>(details: fc.RunDetails<T>, passed: number, stats: Record<string, number>): PropertyReport {
  return {
    seed: details.seed,
    numRuns: details.numRuns,
    passed,
    failed: details.failed,
    message: details.failed
      ? `${fc.defaultReportMessage(details) ?? 'failed'}\nCause: ${
          details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance)
        }`
      : null,
    stats,
  };
}

/** Synchronous: postMessage outcomes and what receiveMessageOnPort then takes, ringport vs Node. */
export function randomPlaces({ numRuns }: { numRuns: number }): PropertyReport {
  let passed = 0;
  const stats: Record<string, number> = {};
  const details = fc.check(
    fc.property(caseArb, (c) => {
      const node = runCase(NODE, c);
      const ours = runCase(RINGPORT, c);
      checkCase(c, ours, node);
      passed++;
      for (const inj of c.injections) stats[inj.bad.kind] = (stats[inj.bad.kind] ?? 0) + 1;
      stats[ours.threw === null ? 'posted' : 'threw'] = (stats[ours.threw === null ? 'posted' : 'threw'] ?? 0) + 1;
    }),
    { seed: SEED, numRuns },
  );
  return report(details, passed, stats);
}

/** With 'message' listeners: what arrives around a failed postMessage, ringport vs Node. */
export async function randomPlacesEvents({ numRuns }: { numRuns: number }): Promise<PropertyReport> {
  let passed = 0;
  const details = await fc.check(
    fc.asyncProperty(caseArb, async (c) => {
      const node = runCase(NODE, c);
      const { port1, port2 } = new MessageChannel();
      const events: Received[] = [];
      let wake: (() => void) | null = null;
      port2.on('message', (m: unknown) => {
        events.push({ ok: true, value: m });
        wake?.();
      });
      port2.on('messageerror', (e: unknown) => {
        const err = e as Error & { code?: unknown };
        events.push({ ok: false, error: JSON.stringify({ name: err.name, code: err.code, message: err.message }) });
        wake?.();
      });
      try {
        const ctx: Context = { thrown: [], log: [] };
        for (const r of c.before) port1.postMessage(stackless(() => build(r).value));
        const threw = thrownBy(() => port1.postMessage(stackless(() => buildCase(c, ctx))));
        port1.postMessage(stackless(() => build(c.after).value));
        assert.equal(threw?.shape ?? 'no error', node.threw?.shape ?? 'no error', 'postMessage outcome');
        // As many events as Node's port had messages (a lost message shows as a test timeout).
        while (events.length < node.received.length) await new Promise<void>((r) => (wake = r));
        const diff = compareReceived(events, node.received);
        if (diff !== null) assert.fail(diff);
        passed++;
      } finally {
        port1.close();
        port2.close();
      }
    }),
    { seed: SEED, numRuns },
  );
  return report(details, passed, {});
}

/** Every kind and variant, alone in an object, through Node: non-clonable except the clonable kinds. */
export function generatorSoundness(): string[] {
  const problems: string[] = [];
  for (const kind of BAD_KINDS) {
    for (let variant = 0; variant < 12; variant++) {
      const value = makeBad({ kind, variant }, { thrown: [], log: [] }, 'probe');
      const { port1 } = new wt.MessageChannel();
      const threw = thrownBy(() => port1.postMessage({ value }));
      port1.close();
      // An accessor `cause` is not read (V8 takes own data properties only): clonable.
      const clonable = CLONABLE_KINDS.includes(kind) || (kind === 'throwingAccessorOnError' && variant % 4 === 3);
      if (clonable !== (threw === null)) problems.push(`${kind}/${variant}: ${threw?.shape ?? 'clonable'}`);
    }
  }
  return problems;
}

// ---- former differences, one value each ------------------------------------------------------

export interface Comparison {
  node: string;
  ringport: string;
  /** What each then delivered (a message posted after the failing one). */
  afterNode: string[];
  afterRingport: string[];
}

function compareOne(make: () => unknown): Comparison {
  const outcome = (impl: Impl) => {
    const { port1, port2 } = new impl.MessageChannel();
    try {
      const threw = thrownBy(() => port1.postMessage({ nested: [1, make()] }));
      port1.postMessage('after');
      const after = drain(impl, port2).map((r) => (r.ok ? JSON.stringify(r.value) : r.error));
      return { shape: threw?.shape ?? 'no error', after };
    } finally {
      port1.close();
    }
  };
  const node = outcome(NODE);
  const ours = outcome(RINGPORT);
  return { node: node.shape, ringport: ours.shape, afterNode: node.after, afterRingport: ours.after };
}

const KNOWN: Record<string, () => unknown> = {
  'a revoked Proxy': () => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  },
  'a DataView over a detached ArrayBuffer': () => {
    const b = new ArrayBuffer(8);
    const view = new DataView(b, 2);
    structuredClone(b, { transfer: [b] });
    return view;
  },
  'a Proxy of a function': () => new Proxy(function named() { return 1; }, {}),
  'a Proxy of an arrow function': () => new Proxy(() => 2, {}),
  'a Proxy of a class': () => new Proxy(class K {}, {}),
  'a Proxy of a Map': () => new Proxy(new Map(), {}),
  'a Proxy of a Date': () => new Proxy(new Date(0), {}),
  'a Proxy of an Error': () => new Proxy(new Error('e'), {}),
  'a Proxy of a null-prototype object': () => new Proxy(Object.create(null) as object, {}),
  // Controls: the same code paths where ringport agrees.
  'a Proxy of a plain object (control)': () => new Proxy({}, {}),
  'a Proxy of an array (control)': () => new Proxy([], {}),
  'a Uint8Array over a detached ArrayBuffer (control)': () => {
    const b = new ArrayBuffer(8);
    const view = new Uint8Array(b, 2);
    structuredClone(b, { transfer: [b] });
    return view;
  },
};

export function knownDifferences(): Record<string, Comparison> {
  return Object.fromEntries(Object.entries(KNOWN).map(([name, make]) => [name, compareOne(make)]));
}

// ---- a 512 MiB string ----------------------------------------------------------------------

export interface HugeReport {
  allocated: boolean;
  runs: number;
  /** Per run: what each did with the value and with a message posted after it. */
  outcomes: { node: string[]; ringport: string[]; sameValue: boolean | null }[];
}

/**
 * A 512 MiB string (V8's longest one-byte string, 2^29 - 24 units; or 2^28
 * two-byte units, well-formed) at a random place in random clonable values.
 */
export function hugeString({ kind, numRuns }: { kind: 'latin1' | 'two-byte'; numRuns: number }): HugeReport {
  let s: string;
  try {
    s = kind === 'latin1' ? 'x'.repeat(2 ** 29 - 24) : '\u2603'.repeat(2 ** 28);
  } catch {
    return { allocated: false, runs: 0, outcomes: [] };
  }
  const outcomes: HugeReport['outcomes'] = [];
  const send = (impl: Impl, value: unknown) => {
    const { port1, port2 } = new impl.MessageChannel();
    try {
      const threw = thrownBy(() => port1.postMessage(value));
      port1.postMessage('after');
      return { threw: threw?.shape ?? null, received: drain(impl, port2) };
    } finally {
      port1.close();
    }
  };
  const describeRun = (r: { threw: string | null; received: Received[] }) => [
    r.threw === null ? 'posted' : `threw ${r.threw}`,
    ...r.received.map((m) => (m.ok ? (typeof m.value === 'string' ? `"${m.value.slice(0, 10)}"` : 'value') : m.error)),
  ];
  fc.assert(
    fc.property(valueRecipe, fc.nat(), (recipe, at) => {
      const { value, containers } = build(recipe);
      const target = containers.length > 0 ? containers[at % containers.length] : null;
      let root: unknown = value;
      if (target === null) root = [value, s];
      else if (target instanceof Map) target.set('huge', s);
      else if (target instanceof Set) target.add(s);
      else if (Array.isArray(target)) target.push(s);
      else Object.defineProperty(target, 'huge', { value: s, enumerable: true, writable: true, configurable: true });
      const node = send(NODE, root);
      const ours = send(RINGPORT, root);
      const first = (r: { received: Received[] }) => (r.received[0]?.ok ? (r.received[0] as { value: unknown }).value : undefined);
      const sameValue = node.received[0]?.ok && ours.received[0]?.ok ? structuralDiff(first(ours), first(node)) === null : null;
      outcomes.push({ node: describeRun(node), ringport: describeRun(ours), sameValue });
    }),
    { seed: SEED, numRuns },
  );
  return { allocated: true, runs: outcomes.length, outcomes };
}
