// The randomized checks of api-misuse.test.ts, run in a plain Node process
// (fixtures/run-ts.js: one realm, and Node's process warnings stay out of
// jest's output). Each returns a JSON report.
import * as assert from 'node:assert/strict';
import { types } from 'node:util';
import * as wt from 'node:worker_threads';
import fc from 'fast-check';

import {
  MessageChannel,
  MessageEvent,
  attachPort,
  detachPort,
  getPortOptions,
  receiveMessageOnPort,
  setPortOptions,
  MessagePort as RingportPort,
} from '../..';
import { drain, errorShape, thrownBy, type Impl } from './outcomes';
import { SEED } from './recipes';

const NODE = wt as unknown as Impl & { MessagePort: { prototype: Record<string, unknown> } };
const RINGPORT = { MessageChannel, receiveMessageOnPort, MessagePort: RingportPort } as unknown as Impl & {
  MessagePort: { prototype: Record<string, unknown> };
};

export interface PropertyReport {
  numRuns: number;
  passed: number;
  failed: boolean;
  message: string | null;
  stats: Record<string, number>;
}

function report<T>(details: fc.RunDetails<T>, passed: number, stats: Record<string, number> = {}): PropertyReport {
  return {
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

function count(stats: Record<string, number>, key: string): void {
  stats[key] = (stats[key] ?? 0) + 1;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

// ---- transfer lists ------------------------------------------------------------------

const ENTRY_KINDS = [
  'arrayBuffer',
  'sameArrayBuffer',
  'detachedArrayBuffer',
  'resizableArrayBuffer',
  'untransferableArrayBuffer',
  'sharedArrayBuffer',
  'sourcePort',
  'peerPort',
  'closedPort',
  'transferredPort',
  'livePort',
  'sameLivePort',
  'typedArray',
  'dataView',
  'number',
  'string',
  'null',
  'undefined',
  'object',
  'array',
  'function',
  'symbol',
  'messageChannel',
] as const;
type EntryKind = (typeof ENTRY_KINDS)[number];

const FORMS = [
  'array',
  'set',
  'generator',
  'arrayWithHole',
  'map',
  '{transfer: array}',
  '{transfer: set}',
  '{transfer: generator}',
  '{transfer: notIterable}',
  '{transfer: undefined}',
  'function with .transfer',
  'notIterable',
  'number',
  'string',
  'null',
  'undefined',
] as const;
type Form = (typeof FORMS)[number];

export interface TransferCase {
  entries: EntryKind[];
  form: Form;
  /** Entries the value refers to (by index). */
  inValue: number[];
  /** The value also holds a live port that is not listed. */
  unlistedPort: boolean;
  /** Post this many messages on the same port afterwards (is it still usable?). */
  after: number;
}

// Transferable entries and list forms more often than not: most lists are then valid.
const VALID_ENTRIES: readonly EntryKind[] = ['arrayBuffer', 'resizableArrayBuffer', 'untransferableArrayBuffer', 'livePort'];
const LIST_FORMS: readonly Form[] = ['array', 'set', 'generator', '{transfer: array}', '{transfer: set}', '{transfer: generator}', 'function with .transfer'];
const transferCase: fc.Arbitrary<TransferCase> = fc.record({
  entries: fc.array(
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...VALID_ENTRIES) }, { weight: 2, arbitrary: fc.constantFrom(...ENTRY_KINDS) }),
    { maxLength: 5 },
  ),
  form: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...LIST_FORMS) }, { weight: 1, arbitrary: fc.constantFrom(...FORMS) }),
  inValue: fc.array(fc.nat(4), { maxLength: 3 }),
  unlistedPort: fc.boolean(),
  after: fc.nat(2),
});

/** A JSON-able description of a received value: ports and buffers by kind, with their contents. */
function shape(value: unknown, seen = new Map<object, number>()): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return typeof value === 'bigint' ? `${value}n` : value === undefined ? '<undefined>' : value;
  }
  const o = value as object;
  if (seen.has(o)) return `<ref ${seen.get(o)}>`;
  seen.set(o, seen.size);
  if (o instanceof wt.MessagePort || o instanceof RingportPort) return '<port>';
  if (types.isArrayBuffer(o) || types.isSharedArrayBuffer(o)) {
    return { [types.isSharedArrayBuffer(o) ? 'SharedArrayBuffer' : 'ArrayBuffer']: [...new Uint8Array(o as ArrayBuffer)] };
  }
  if (ArrayBuffer.isView(o)) return { [Object.prototype.toString.call(o)]: shape(o.buffer, seen), offset: o.byteOffset, length: o.byteLength };
  if (Array.isArray(o)) return o.map((v) => shape(v, seen));
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shape(v, seen)]));
}

/** Forms that pass no transfer list at all. */
const NO_LIST: readonly Form[] = ['null', 'undefined', '{transfer: undefined}', 'notIterable'];

interface TransferOutcome {
  result: string;
  byteLengths: number[];
  probes: string[];
  received: unknown[];
  receivedAfterTurns: unknown[];
  warnings: string[];
  /** Ports that arrived and then answered through their entangled peer. */
  receivedPortsWork: boolean[];
}

/** An array-like object that is not iterable. */
function arrayLike(list: unknown[]): object {
  return Object.assign({ length: list.length }, Object.fromEntries(list.map((e, i) => [String(i), e])));
}

async function runTransfer(impl: Impl, c: TransferCase): Promise<TransferOutcome> {
  const { port1, port2 } = new impl.MessageChannel();
  const opened: { port1: { close(): void }; port2: { close(): void } }[] = [{ port1, port2 }];
  const channel = () => {
    const ch = new impl.MessageChannel();
    opened.push(ch);
    return ch;
  };
  let lastBuffer: ArrayBuffer | null = null;
  let lastLive: { port1: unknown; port2: unknown } | null = null;
  /** For each port entry, its entangled peer (to check that what arrives still works). */
  const peers = new Map<unknown, unknown>();
  const entries: unknown[] = c.entries.map((kind, i) => {
    switch (kind) {
      case 'arrayBuffer':
        return (lastBuffer = new Uint8Array([i, 1, 2, 3]).buffer);
      case 'sameArrayBuffer':
        return lastBuffer ?? (lastBuffer = new Uint8Array([i, 9]).buffer);
      case 'detachedArrayBuffer': {
        const b = new ArrayBuffer(4);
        structuredClone(b, { transfer: [b] });
        return b;
      }
      case 'resizableArrayBuffer':
        return new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(3, { maxByteLength: 9 });
      case 'untransferableArrayBuffer': {
        const b = new Uint8Array([7, 7]).buffer;
        wt.markAsUntransferable(b);
        return b;
      }
      case 'sharedArrayBuffer':
        return new SharedArrayBuffer(2);
      case 'sourcePort':
        return port1;
      case 'peerPort':
        return port2;
      case 'closedPort': {
        const ch = channel();
        ch.port1.close();
        return ch.port1;
      }
      case 'transferredPort': {
        const ch = channel();
        const carrier = channel();
        carrier.port1.postMessage(null, [ch.port1]);
        return ch.port1;
      }
      case 'livePort':
      case 'sameLivePort': {
        if (kind === 'livePort' || lastLive === null) {
          lastLive = channel();
          peers.set(lastLive.port1, lastLive.port2);
        }
        return lastLive.port1;
      }
      case 'typedArray':
        return new Uint8Array(2);
      case 'dataView':
        return new DataView(new ArrayBuffer(2));
      case 'number':
        return i;
      case 'string':
        return 'str';
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      case 'object':
        return { i };
      case 'array':
        return [i];
      case 'function':
        return () => i;
      case 'symbol':
        return Symbol('entry');
      case 'messageChannel':
        return channel();
    }
  });
  const value: Record<string, unknown> = {
    refs: c.inValue.filter((i) => i < entries.length).map((i) => entries[i]),
  };
  if (c.unlistedPort) value.unlisted = channel().port1;
  const list = entries;
  let transfer: unknown;
  switch (c.form) {
    case 'array':
      transfer = list;
      break;
    case 'set':
      transfer = new Set(list);
      break;
    case 'generator':
      transfer = (function* gen() {
        yield* list;
      })();
      break;
    case 'arrayWithHole':
      transfer = [, ...list]; // eslint-disable-line no-sparse-arrays
      break;
    case 'map':
      transfer = new Map(list.map((e, i) => [e, i]));
      break;
    case '{transfer: array}':
      transfer = { transfer: list };
      break;
    case '{transfer: set}':
      transfer = { transfer: new Set(list) };
      break;
    case '{transfer: generator}':
      transfer = {
        transfer: (function* gen() {
          yield* list;
        })(),
      };
      break;
    case '{transfer: notIterable}':
      transfer = { transfer: arrayLike(list) };
      break;
    case '{transfer: undefined}':
      transfer = { transfer: undefined, list };
      break;
    case 'function with .transfer':
      transfer = Object.assign(() => 0, { transfer: list });
      break;
    case 'notIterable':
      transfer = arrayLike(list);
      break;
    case 'number':
      transfer = list.length;
      break;
    case 'string':
      transfer = 'ab';
      break;
    case 'null':
      transfer = null;
      break;
    case 'undefined':
      transfer = undefined;
      break;
  }
  const warned = warnings.length;
  let result: string;
  try {
    result = `returned ${String(port1.postMessage(value, transfer as never))}`;
  } catch (e) {
    result = `threw ${errorShape(e)}`;
  }
  for (let i = 0; i < c.after; i++) {
    try {
      result += `; then returned ${String(port1.postMessage(`after ${i}`))}`;
    } catch (e) {
      result += `; then threw ${errorShape(e)}`;
    }
  }
  const byteLengths = entries.map((e) =>
    types.isArrayBuffer(e) || types.isSharedArrayBuffer(e) ? (e as ArrayBuffer).byteLength : -1,
  );
  const probes = entries.map((e) => {
    if (!(e instanceof wt.MessagePort || e instanceof RingportPort)) return '-';
    try {
      return String((e as { postMessage(v: unknown): unknown }).postMessage('probe'));
    } catch (err) {
      return errorShape(err);
    }
  });
  // Node 20.20.2 crashes (SIGSEGV) in receiveMessageOnPort on a port it
  // has just transferred away: when port2 went in the list, it is not read
  // (ringport must then give nothing, checked in transferLists).
  const peerGone = c.entries.includes('peerPort') && !result.startsWith('threw') && !NO_LIST.includes(c.form);
  const takenNow = peerGone ? [] : drain(impl, port2);
  if (peerGone && impl === RINGPORT) assert.deepEqual(drain(impl, port2), [], 'receiveMessageOnPort on a port posted away');
  const received = takenNow.map((r) => (r.ok ? shape(r.value) : r.error));
  // Do the ports that arrived work? Their peer posts; they receive.
  const receivedPortsWork: boolean[] = [];
  for (const r of takenNow) {
    if (!r.ok || typeof r.value !== 'object' || r.value === null) continue;
    const refs = (r.value as { refs?: unknown[] }).refs ?? [];
    refs.forEach((got, k) => {
      const sent = value.refs instanceof Array ? (value.refs as unknown[])[k] : undefined;
      const peer = peers.get(sent);
      if (peer === undefined || !(got instanceof wt.MessagePort || got instanceof RingportPort)) return;
      (peer as { postMessage(v: unknown): unknown }).postMessage('ping');
      const answer = impl.receiveMessageOnPort(got);
      receivedPortsWork.push(answer?.message === 'ping');
      (got as { close(): void }).close();
    });
  }
  await turn();
  await turn();
  const receivedAfterTurns = peerGone ? [] : drain(impl, port2).map((r) => (r.ok ? shape(r.value) : r.error));
  for (const ch of opened) {
    ch.port1.close();
    ch.port2.close();
  }
  await turn();
  return { result, byteLengths, probes, received, receivedAfterTurns, warnings: warnings.slice(warned), receivedPortsWork };
}

/**
 * A known difference, shown on its own by api-misuse.test.ts: a closed or
 * transferred-away port in the value but not in the transfer list (Node:
 * DataCloneError "Cannot transfer object of unsupported type.", ringport:
 * ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST).
 */
function knownDifference(c: TransferCase): boolean {
  if (!NO_LIST.includes(c.form)) return false;
  return c.inValue.some((i) => i < c.entries.length && (c.entries[i] === 'closedPort' || c.entries[i] === 'transferredPort'));
}

/** postMessage(value, transfer) with random transfer lists: the same outcome as Node's, in every respect above. */
export async function transferLists({ numRuns }: { numRuns: number }): Promise<PropertyReport> {
  let passed = 0;
  const stats: Record<string, number> = {};
  const details = await fc.check(
    fc.asyncProperty(transferCase, async (c) => {
      if (knownDifference(c)) {
        count(stats, 'skipped: known difference');
        return;
      }
      if (process.env.RINGPORT_TRACE) process.stderr.write(`node ${JSON.stringify(c)}\n`);
      const node = await runTransfer(NODE, c);
      if (process.env.RINGPORT_TRACE) process.stderr.write(`ringport ${JSON.stringify(c)}\n`);
      const ours = await runTransfer(RINGPORT, c);
      assert.deepEqual(ours, node);
      passed++;
      if (node.receivedPortsWork.some(Boolean)) count(stats, 'a transferred port arrived and worked');
      if (node.byteLengths.some((n, i) => n === 0 && c.entries[i] === 'arrayBuffer')) count(stats, 'a buffer was detached');
      if (node.warnings.length > 0) count(stats, 'warned: posted to itself');
      count(stats, node.result.startsWith('threw') ? `threw ${JSON.parse(node.result.slice(6).split('; then')[0]).code ?? JSON.parse(node.result.slice(6).split('; then')[0]).message}` : 'posted');
    }),
    { seed: SEED, numRuns },
  );
  return report(details, passed, stats);
}

// ---- garbage arguments -----------------------------------------------------------------

/** Anything a caller might pass by mistake: fast-check's values and a few objects of note. */
const garbage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withTypedArray: true, withSparseArray: true, maxDepth: 2 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<() => unknown>(
      () => Symbol('s'),
      () => () => 1,
      () => new EventTarget(),
      () => Object.create(RingportPort.prototype) as unknown,
      () => Object.create(wt.MessagePort.prototype) as unknown,
      () => ({ port1: 1, port2: 2 }),
      () => new ArrayBuffer(2),
      () => ({ ringport: 'MessagePort' }),
      () => ({ ringport: 'MessagePort', token: 'x' }),
      () => Object.freeze({ ringport: 'MessagePort', token: -5 }),
      () => ({ batch: true, spin: 5 }),
      () => ({ transfer: 1 }),
      () => globalThis,
      () => wt,
    ).map((make) => make()),
  },
);

/** Each call on garbage, with the checks for it. */
function checkGarbage(g: unknown, stats: Record<string, number>): void {
  const cmp = (label: string, node: () => unknown, ours: () => unknown) => {
    const a = thrownBy(ours)?.shape ?? 'no error';
    const b = thrownBy(node)?.shape ?? 'no error';
    assert.equal(a, b, label);
    count(stats, label);
  };
  // receiveMessageOnPort(garbage): Node's errors.
  cmp('receiveMessageOnPort(x)', () => wt.receiveMessageOnPort(g as never), () => receiveMessageOnPort(g as never));
  // Methods on a garbage receiver: Node's errors (Illegal invocation).
  for (const m of ['postMessage', 'start', 'close', 'ref', 'unref', 'hasRef']) {
    cmp(`MessagePort.prototype.${m}.call(x)`, () => (NODE.MessagePort.prototype[m] as Function).call(g, 1), () => (RINGPORT.MessagePort.prototype[m] as Function).call(g, 1));
  }
  // postMessage(1, garbage) on live ports: Node's errors or return values.
  {
    const a = new wt.MessageChannel();
    const b = new MessageChannel();
    cmp('postMessage(1, x)', () => a.port1.postMessage(1, g as never), () => b.port1.postMessage(1, g as never));
    cmp('postMessage(x)', () => a.port1.postMessage(g), () => b.port1.postMessage(g));
    cmp('postMessage(x, [x])', () => a.port1.postMessage(g, [g] as never), () => b.port1.postMessage(g, [g] as never));
    const na = drain(NODE, a.port2 as never).length;
    const nb = drain(RINGPORT, b.port2 as never).length;
    assert.equal(nb, na, 'messages delivered after the garbage posts');
    a.port1.close();
    b.port1.close();
  }
  // new MessageEvent(x) / new MessageEvent('message', x): Node's (global) MessageEvent.
  cmp('new MessageEvent(x)', () => new globalThis.MessageEvent(g as string), () => new MessageEvent(g as string));
  cmp("new MessageEvent('message', x)", () => new globalThis.MessageEvent('message', g as never), () => new MessageEvent('message', g as never));
  {
    const a = thrownBy(() => new globalThis.MessageEvent('message', { data: g, origin: g as string, lastEventId: g as string }));
    const b = thrownBy(() => new MessageEvent('message', { data: g, origin: g as string, lastEventId: g as string }));
    assert.equal(b?.shape ?? 'no error', a?.shape ?? 'no error', 'MessageEvent init members');
  }
  // new MessageChannel(x): Node ignores its arguments; ringport takes valid options only, never throws for data.
  {
    const ch = new MessageChannel(g as never);
    const options = getPortOptions(ch.port1);
    assert.equal(typeof options.batch, 'boolean');
    assert.ok(Number.isInteger(options.spin) && options.spin >= 0 && options.spin <= 1_000_000, 'spin in range');
    assert.deepEqual(getPortOptions(ch.port2), options);
    ch.port1.close();
    count(stats, 'new MessageChannel(x)');
  }
  // ringport's own functions: ERR_INVALID_ARG_TYPE TypeErrors for what is not a port / handle.
  const invalidArg = (label: string, fn: () => unknown, alsoAllowed: string[] = []) => {
    const threw = thrownBy(fn);
    assert.ok(threw !== null, `${label} did not throw`);
    const e = JSON.parse(threw.shape) as { class: string; code: string };
    assert.ok(
      (e.class === 'TypeError' && e.code === 'ERR_INVALID_ARG_TYPE') || alsoAllowed.includes(e.code),
      `${label}: ${threw.shape}`,
    );
    count(stats, label);
  };
  invalidArg('detachPort(x)', () => detachPort(g as never));
  invalidArg('getPortOptions(x)', () => getPortOptions(g as never));
  invalidArg('setPortOptions(x, {})', () => setPortOptions(g as never, {}));
  invalidArg('attachPort(x)', () => attachPort(g as never), ['ERR_RINGPORT_HANDLE_INVALID']);
  // setPortOptions(port, x): valid options take effect; invalid ones throw ERR_INVALID_ARG_TYPE and change nothing.
  {
    const ch = new MessageChannel();
    setPortOptions(ch.port1, { batch: true, spin: 7 });
    const threw = thrownBy(() => setPortOptions(ch.port1, g as never));
    const after = getPortOptions(ch.port1);
    const o = g as { batch?: unknown; spin?: unknown } | null;
    const isObject = o !== null && typeof o === 'object';
    const batchOk = !isObject || o.batch === undefined || typeof o.batch === 'boolean';
    const spinOk = !isObject || o.spin === undefined || (typeof o.spin === 'number' && o.spin >= 0 && o.spin <= 1_000_000);
    if (batchOk && spinOk) {
      assert.equal(threw, null, `setPortOptions(port, valid) threw ${threw?.shape}`);
      const expected = {
        batch: isObject && typeof o.batch === 'boolean' ? o.batch : true,
        spin: isObject && typeof o.spin === 'number' ? Math.floor(o.spin) : 7,
      };
      assert.deepEqual(after, expected);
    } else {
      assert.ok(threw !== null && JSON.parse(threw.shape).code === 'ERR_INVALID_ARG_TYPE', `setPortOptions(port, invalid): ${threw?.shape}`);
      assert.deepEqual(after, { batch: true, spin: 7 });
    }
    ch.port1.close();
    count(stats, 'setPortOptions(port, x)');
  }
}

export function garbageArguments({ numRuns }: { numRuns: number }): PropertyReport {
  let passed = 0;
  const stats: Record<string, number> = {};
  const details = fc.check(
    fc.property(garbage, (g) => {
      checkGarbage(g, stats);
      passed++;
    }),
    { seed: SEED, numRuns },
  );
  return report(details, passed, stats);
}

/** Options for setPortOptions: random batch/spin values of every type. */
export function setPortOptionsFuzz({ numRuns }: { numRuns: number }): PropertyReport {
  let passed = 0;
  const stats: Record<string, number> = {};
  const member = fc.oneof(
    fc.constant(undefined),
    fc.boolean(),
    fc.double(),
    fc.integer({ min: -5, max: 1_000_005 }),
    fc.constantFrom(0, -0, 1_000_000, 1_000_001, 0.5, NaN, Infinity, -1),
    fc.anything(),
  );
  const details = fc.check(
    fc.property(fc.record({ batch: member, spin: member }, { requiredKeys: [] }), (o) => {
      checkGarbage(o, stats);
      passed++;
    }),
    { seed: SEED, numRuns },
  );
  return report(details, passed, stats);
}

// ---- attachPort: forged and mangled handles ------------------------------------------------

/** Random handle-like objects next to a real parked handle: only the real one attaches, once. */
export function mangledHandles({ numRuns }: { numRuns: number }): PropertyReport {
  let passed = 0;
  const stats: Record<string, number> = {};
  const details = fc.check(
    fc.property(
      fc.record({
        ringport: fc.oneof(fc.constant('MessagePort'), fc.constantFrom('messageport', 'MessagePort ', 'Port', ''), fc.anything()),
        token: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, -1, 1, 2 ** 53, 2 ** 53 - 1, NaN, Infinity), fc.anything()),
        delta: fc.integer({ min: -3, max: 3 }),
        useDelta: fc.boolean(),
      }),
      ({ ringport, token, delta, useDelta }) => {
        const { port1, port2 } = new MessageChannel();
        port1.postMessage('queued');
        const real = detachPort(port2);
        // A handle that differs from the real one (its token moved, or made up).
        const forged = { ringport, token: useDelta && delta !== 0 ? real.token + delta : token };
        const same = forged.ringport === 'MessagePort' && forged.token === real.token;
        let attached: { close(): void } | null = null;
        const threw = thrownBy(() => (attached = attachPort(forged as never)));
        if (same) {
          assert.equal(threw, null);
          (attached as { close(): void } | null)?.close();
        } else {
          assert.ok(threw !== null, `a forged handle attached: ${JSON.stringify(forged)}`);
          const e = JSON.parse(threw.shape) as { code: string };
          const wellFormed = forged.ringport === 'MessagePort' && typeof forged.token === 'number' && Number.isSafeInteger(forged.token) && forged.token > 0;
          assert.equal(e.code, wellFormed ? 'ERR_RINGPORT_HANDLE_INVALID' : 'ERR_INVALID_ARG_TYPE', JSON.stringify(forged));
          count(stats, e.code);
        }
        // The real handle still attaches (unless the forged one was it), with the queued message.
        if (!same) {
          const p = attachPort(real);
          assert.deepEqual(receiveMessageOnPort(p), { message: 'queued' });
          p.close();
        }
        assert.equal(thrownBy(() => attachPort(real)) !== null, true, 'a handle attached twice');
        port1.close();
        passed++;
      },
    ),
    { seed: SEED, numRuns },
  );
  return report(details, passed, stats);
}
