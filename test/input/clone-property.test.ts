// Property-based: random structured-clonable values (nested objects, sparse
// arrays, Maps, Sets, Dates, RegExps, boxed primitives, BigInts, -0, NaN,
// every typed-array kind and DataViews over shared and resizable buffers at
// offsets, strings with lone surrogates, Errors, class instances with
// private fields, circular and shared references) arrive through ringport
// exactly as Node's structuredClone() rebuilds them — taken with
// receiveMessageOnPort, through 'message' events, and on a round trip
// through a worker thread.
//
// Fixed seed (RINGPORT_FUZZ_SEED overrides it); RINGPORT_STRESS=long runs 20x.
// (Values made in jest's sandbox and values made by Node's structuredClone
// live in different realms: prototypes are compared by their constructor
// names, see compare.ts.)
import { once } from 'node:events';
import * as path from 'node:path';
import * as wt from 'node:worker_threads';
import fc from 'fast-check';

import { MessageChannel, detachPort, receiveMessageOnPort, type MessagePort } from '../..';
import { reachableObjects, structuralDiff } from './compare';
import { drain, thrownBy, type Impl, type Received } from './outcomes';
import { build, params, runs, SEED, valueRecipe, type ValueRecipe, TIMEOUT } from './recipes';

jest.setTimeout(TIMEOUT);

const NODE = wt as unknown as Impl;
const RINGPORT = { MessageChannel, receiveMessageOnPort } as unknown as Impl;

const tried: Record<string, number> = {};
afterAll(() => {
  console.log(`inputs tried (seed ${SEED}): ${JSON.stringify(tried)}`);
});

/** structuredClone(value), or the error it threw. */
function nodeClone(value: unknown): { ok: true; value: unknown } | { ok: false; error: Error } {
  try {
    return { ok: true, value: structuredClone(value) };
  } catch (e) {
    return { ok: false, error: e as Error };
  }
}

/** Throws with the difference unless `received` is what structuredClone made of `sent`, in new objects. */
function check(received: unknown, sent: unknown, expected: unknown, label: string): void {
  const diff = structuralDiff(received, expected);
  if (diff !== null) throw new Error(`${label}: ${diff}`);
  const original = reachableObjects(sent);
  for (const o of reachableObjects(received)) {
    if (original.has(o)) throw new Error(`${label}: the received value shares an object with the sent one`);
  }
}

/** Waits for the next item `push` delivers (a lost message shows as the test's timeout). */
function inbox(): { push(item: unknown): void; next(): Promise<unknown> } {
  const items: unknown[] = [];
  let wake: (() => void) | null = null;
  return {
    push(item) {
      items.push(item);
      wake?.();
    },
    async next() {
      while (items.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      return items.shift();
    },
  };
}

describe('the comparison used below can fail', () => {
  const shared = { s: 1 };
  const circular = (): object => {
    const o: Record<string, unknown> = {};
    o.self = o;
    return o;
  };
  test.each<[string, unknown, unknown]>([
    ['-0 vs 0', -0, 0],
    ['NaN vs undefined', NaN, undefined],
    ['lone surrogate vs replacement character', 'a\ud800', 'a\ufffd'],
    ['shared vs duplicated', [shared, shared], [{ s: 1 }, { s: 1 }]],
    ['circular vs not', circular(), { self: {} }],
    ['typed array kind', new Uint8Array(2), new Int8Array(2)],
    ['Map order', new Map([[1, 1], [2, 2]]), new Map([[2, 2], [1, 1]])],
    ['hole vs undefined', [, 1], [undefined, 1]], // eslint-disable-line no-sparse-arrays
    ['view offset', new Uint8Array(new ArrayBuffer(4), 1, 2), new Uint8Array(new ArrayBuffer(4), 2, 2)],
    ['views over one buffer vs two', (() => { const b = new ArrayBuffer(2); return [new Uint8Array(b), new Uint8Array(b)]; })(), [new Uint8Array(2), new Uint8Array(2)]],
    ['buffer bytes', new Uint8Array([1, 2]).buffer, new Uint8Array([1, 3]).buffer],
    ['resizable vs fixed', new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(2, { maxByteLength: 4 }), new ArrayBuffer(2)],
    ['error class', new TypeError('x'), new RangeError('x')],
    ['boxed -0', Object(-0), Object(0)],
    ['property attributes', Object.defineProperty({}, 'a', { value: 1, enumerable: true }), { a: 1 }],
    ['regexp flags', /a/g, /a/],
    ['null prototype', Object.create(null) as object, {}],
  ])('%s', (_, a, b) => {
    expect(structuralDiff(a, b)).not.toBeNull();
    expect(structuralDiff(a, a)).toBeNull();
  });
});

/** What one implementation does with a batch: per message, its postMessage error, or what receiving gave. */
function runBatch(impl: Impl, values: unknown[]): ({ posted: false; error: string } | { posted: true; received: Received | undefined })[] {
  const { port1, port2 } = new impl.MessageChannel();
  try {
    const steps = values.map((value) => {
      const threw = thrownBy(() => port1.postMessage(value));
      return threw === null ? { posted: true as const, received: undefined as Received | undefined } : { posted: false as const, error: threw.shape };
    });
    const received = drain(impl, port2);
    for (const step of steps) if (step.posted) step.received = received.shift();
    if (received.length > 0) throw new Error(`${received.length} more messages than were posted`);
    return steps;
  } finally {
    port1.close();
  }
}

describe('random clonable values arrive as structuredClone() rebuilds them', () => {
  test('batches of 1-4 messages on a fresh channel, taken with receiveMessageOnPort', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.array(valueRecipe, { minLength: 1, maxLength: 4 }), (recipes: ValueRecipe[]) => {
        const values = recipes.map((r) => build(r).value);
        // Node's own port tells which messages fail to post or to be read
        // back (structuredClone() does both at once); structuredClone() gives
        // the value each must be.
        const node = runBatch(NODE, values);
        const ours = runBatch(RINGPORT, values);
        values.forEach((value, i) => {
          const [a, b] = [ours[i], node[i]];
          if (!a.posted || !b.posted) {
            expect(a.posted ? 'posted' : a.error).toBe(b.posted ? 'posted' : b.error);
            return;
          }
          const [ra, rb] = [a.received, b.received];
          if (ra === undefined || !ra.ok || rb === undefined || !rb.ok) {
            const shown = (r: Received | undefined) => (r === undefined ? 'not delivered' : r.ok ? 'delivered' : r.error);
            expect(`message ${i}: ${shown(ra)}`).toBe(`message ${i}: ${shown(rb)}`);
            return;
          }
          const expected = nodeClone(value);
          check(ra.value, value, expected.ok ? expected.value : rb.value, `message ${i}`);
          n++;
        });
      }),
      params(4000),
    );
    tried['values through receiveMessageOnPort'] = n;
    expect(n).toBeGreaterThan(runs(4000));
  });

  test("'message' events on a started port", async () => {
    const { port1, port2 } = new MessageChannel();
    const box = inbox();
    port2.on('message', (m: unknown) => box.push({ message: m }));
    port2.on('messageerror', (e: unknown) => box.push({ messageerror: e }));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(valueRecipe, async (r) => {
        const { value } = build(r);
        const expected = nodeClone(value);
        port1.postMessage(value);
        const got = (await box.next()) as { message?: unknown; messageerror?: Error };
        if (expected.ok) {
          expect(got).not.toHaveProperty('messageerror');
          check(got.message, value, expected.value, 'event');
        } else {
          // structuredClone() could not read it back (an Error whose cause
          // leads back to it): Node's port then emits 'messageerror'.
          expect(got.messageerror).toBeInstanceOf(Error);
          expect(`${got.messageerror?.name}: ${got.messageerror?.message}`).toBe(`${expected.error.name}: ${expected.error.message}`);
        }
        n++;
      }),
      params(1500),
    );
    port1.close();
    await once(port2, 'close');
    tried["values through 'message' events"] = n;
    expect(n).toBe(runs(1500));
  });
});

describe('through a worker thread', () => {
  let port: MessagePort;
  let worker: wt.Worker;
  let exited: Promise<unknown>;
  beforeAll(() => {
    const channel = new MessageChannel();
    port = channel.port1;
    worker = new wt.Worker(path.join(__dirname, 'fixtures', 'echo.js'), { workerData: { port: detachPort(channel.port2) } });
    exited = once(worker, 'exit');
  });
  afterAll(async () => {
    port.close();
    await exited;
  });

  test('decoded in the worker and sent back, a value equals structuredClone()', async () => {
    const box = inbox();
    port.on('message', (m: unknown) => box.push(m));
    worker.on('error', (e) => box.push({ workerError: e }));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(valueRecipe, async (r) => {
        const { value } = build(r);
        const expected = nodeClone(value);
        port.postMessage(value);
        const got = await box.next();
        if (expected.ok) check(got, value, expected.value, 'echo');
        else expect(got).toEqual({ messageerror: `Error: ${expected.error.message}` });
        n++;
      }),
      params(1500),
    );
    tried['values through a worker and back'] = n;
    expect(n).toBe(runs(1500));
  });
});

describe('former bugs, each on its own (regression tests)', () => {
  test('a fixed-length DataView over a resizable ArrayBuffer that cannot grow is sent as by Node', () => {
    // isLengthTracking() (encode.ts) shrinks a copy's buffer to see whether
    // the view follows it; a fixed DataView then lies out of bounds, and its
    // byteLength getter throws "Cannot perform DataView.prototype.byteLength
    // on a detached ArrayBuffer" instead of answering.
    const make = () => new DataView(new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(5, { maxByteLength: 5 }), 2, 3);
    const node = runBatch(NODE, [make()]);
    const ours = runBatch(RINGPORT, [make()]);
    expect(node[0]).toMatchObject({ posted: true, received: { ok: true } });
    expect(ours[0].posted ? 'posted' : ours[0].error).toBe('posted');
    const a = (ours[0] as { received?: { value?: unknown } }).received?.value;
    const b = (node[0] as { received?: { value?: unknown } }).received?.value;
    expect(structuralDiff(a, b)).toBeNull();
  });

  test('(control) the same DataView over a buffer with room to grow is fine', () => {
    const value = new DataView(new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(5, { maxByteLength: 6 }), 2, 3);
    const ours = runBatch(RINGPORT, [value]);
    expect(ours[0]).toMatchObject({ posted: true, received: { ok: true } });
  });
});
