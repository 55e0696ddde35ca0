// API misuse: wrong arguments to every public function and method. Where
// node:worker_threads has the same function, ringport must throw what Node
// throws (constructor, name, code, message); where it has none (detachPort,
// attachPort, setPortOptions, getPortOptions), a TypeError with a Node-style
// code or a DataCloneError. Nothing may crash the process.
//
// The randomized parts (api-misuse.cases.ts) run in a plain child process:
// one realm as in a user's program, Node's warnings out of jest's output, and
// a crash shows as the child's signal. (Node 20.20.2 itself crashes on some of
// these paths, e.g. receiveMessageOnPort on a Node port it has just
// transferred away: the cases stay off them.)
import { once } from 'node:events';
import * as path from 'node:path';
import * as wt from 'node:worker_threads';

import {
  MessageChannel,
  MessagePort,
  attachPort,
  detachPort,
  getPortOptions,
  receiveMessageOnPort,
  setPortOptions,
  type DetachedPort,
} from '../..';
import type { PropertyReport } from './api-misuse.cases';
import { runInChild } from './child';
import { thrownBy } from './outcomes';
import { runs, SEED, TIMEOUT } from './recipes';

jest.setTimeout(TIMEOUT);

const CASES = 'api-misuse.cases.ts';
const tried: Record<string, unknown> = {};
afterAll(() => {
  console.log(`inputs tried (seed ${SEED}): ${JSON.stringify(tried)}`);
});

function expectPassed(r: PropertyReport, numRuns: number): void {
  if (r.failed) throw new Error(r.message ?? 'property failed');
  expect(r.numRuns).toBe(numRuns);
}

/** Constructor name, name, code and message of what `fn` throws ('no error' if nothing). */
function outcome(fn: () => unknown): string {
  return thrownBy(fn)?.shape ?? 'no error';
}

function shapeOf(fn: () => unknown): { class?: string; name?: string; code?: unknown; message?: string } {
  const t = thrownBy(fn);
  return t === null ? {} : (JSON.parse(t.shape) as object);
}

describe('random garbage, compared with Node (child process)', () => {
  test('every function and method with garbage arguments and receivers', async () => {
    const numRuns = runs(2000);
    const r = await runInChild<PropertyReport>(CASES, 'garbageArguments', { numRuns });
    tried['garbage values (each through 18 calls)'] = r.numRuns;
    expectPassed(r, numRuns);
  });

  test('setPortOptions with random batch/spin members of every type', async () => {
    const numRuns = runs(1000);
    const r = await runInChild<PropertyReport>(CASES, 'setPortOptionsFuzz', { numRuns });
    tried['option objects'] = r.numRuns;
    expectPassed(r, numRuns);
  });

  test('forged and mangled handles never attach; the real one attaches once, with its queue', async () => {
    const numRuns = runs(1000);
    const r = await runInChild<PropertyReport>(CASES, 'mangledHandles', { numRuns });
    tried['forged handles'] = r.stats;
    expectPassed(r, numRuns);
    expect(r.stats.ERR_RINGPORT_HANDLE_INVALID).toBeGreaterThan(0);
    expect(r.stats.ERR_INVALID_ARG_TYPE).toBeGreaterThan(0);
  });

  test('random transfer lists (duplicates, source, peer, closed, transferred, detached, untransferable…): as Node', async () => {
    const numRuns = runs(3000);
    const r = await runInChild<PropertyReport>(CASES, 'transferLists', { numRuns });
    tried['transfer lists'] = r.stats;
    expectPassed(r, numRuns);
    for (const key of ['posted', 'a buffer was detached', 'a transferred port arrived and worked', 'warned: posted to itself', 'threw ERR_INVALID_TRANSFER_OBJECT', 'threw 25']) {
      expect(r.stats[key]).toBeGreaterThan(0);
    }
  });
});

describe('detachPort', () => {
  test.each<[string, () => unknown]>([
    ['undefined', () => undefined],
    ['a Node MessagePort', () => new wt.MessageChannel().port1],
    ['a MessageChannel', () => new MessageChannel()],
    ['a handle', () => ({ ringport: 'MessagePort', token: 1 })],
    ['an object made from MessagePort.prototype', () => Object.create(MessagePort.prototype) as unknown],
  ])('%s: ERR_INVALID_ARG_TYPE', (_, make) => {
    const value = make();
    expect(shapeOf(() => detachPort(value as never))).toEqual({
      class: 'TypeError',
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "port" argument must be a ringport MessagePort instance',
    });
    if (value instanceof wt.MessagePort) value.close();
    if (value instanceof MessageChannel) value.port1.close();
  });

  const alreadyDetached = {
    class: 'DOMException',
    name: 'DataCloneError',
    code: 25,
    message: 'MessagePort in transfer list is already detached',
  };

  test('a closing port, a closed port, a transferred port, a detached port: DataCloneError, nothing else happens', async () => {
    const closing = new MessageChannel();
    closing.port1.close();
    expect(shapeOf(() => detachPort(closing.port1))).toEqual(alreadyDetached);
    await once(closing.port1, 'close');
    expect(shapeOf(() => detachPort(closing.port1))).toEqual(alreadyDetached);

    const carrier = new MessageChannel();
    const moved = new MessageChannel();
    carrier.port1.postMessage(null, [moved.port1]);
    expect(shapeOf(() => detachPort(moved.port1))).toEqual(alreadyDetached);
    const arrived = receiveMessageOnPort(carrier.port2);
    expect(arrived).toEqual({ message: null });

    const twice = new MessageChannel();
    twice.port2.postMessage('for port1');
    const handle = detachPort(twice.port1);
    expect(shapeOf(() => detachPort(twice.port1))).toEqual(alreadyDetached);
    // The failed calls did not disturb the parked port.
    const port = attachPort(handle);
    expect(receiveMessageOnPort(port)).toEqual({ message: 'for port1' });
    for (const p of [port, twice.port2, carrier.port1, moved.port2]) p.close();
  });

  test('a detached port object is inert, as a transferred Node port: no throws, nothing sent or received', async () => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage('queued for port2');
    const handle = detachPort(port2);
    expect(port2.postMessage('into the void')).toBeUndefined();
    expect(receiveMessageOnPort(port2)).toBeUndefined();
    expect(() => {
      port2.start();
      port2.ref();
      port2.unref();
    }).not.toThrow();
    expect(port2.hasRef()).toBe(false);
    expect(shapeOf(() => port1.postMessage(1, [port2]))).toEqual(alreadyDetached);
    await once(port2, 'close');
    const attached = attachPort(handle);
    // Only what was sent to it, in order: nothing from the detached object.
    expect(receiveMessageOnPort(attached)).toEqual({ message: 'queued for port2' });
    expect(receiveMessageOnPort(attached)).toBeUndefined();
    attached.postMessage('back');
    expect(receiveMessageOnPort(port1)).toEqual({ message: 'back' });
    port1.close();
    attached.close();
  });

  test('a port whose peer closed: the attached port gets what was sent, then closes', async () => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage('sent before close');
    port1.close();
    await once(port1, 'close');
    const attached = attachPort(detachPort(port2));
    const messages: unknown[] = [];
    attached.on('message', (m: unknown) => messages.push(m));
    await once(attached, 'close');
    expect(messages).toEqual(['sent before close']);
  });
});

describe('attachPort', () => {
  test('a second attach, in the same thread: ERR_RINGPORT_HANDLE_INVALID; the first port keeps working', () => {
    const { port1, port2 } = new MessageChannel();
    const handle = detachPort(port2);
    const first = attachPort(handle);
    for (const again of [handle, { ...handle }, JSON.parse(JSON.stringify(handle)) as DetachedPort]) {
      expect(shapeOf(() => attachPort(again))).toEqual({
        class: 'Error',
        name: 'Error',
        code: 'ERR_RINGPORT_HANDLE_INVALID',
        message: 'This port handle was already attached, or does not name a detached port',
      });
    }
    port1.postMessage('still there');
    expect(receiveMessageOnPort(first)).toEqual({ message: 'still there' });
    port1.close();
    first.close();
  });

  test('a handle raced for by the main thread and two workers attaches exactly once', async () => {
    const rounds = runs(3);
    for (let round = 0; round < rounds; round++) {
      const { port1, port2 } = new MessageChannel();
      port1.postMessage(`queued ${round}`);
      const handle = detachPort(port2);
      const workers = [0, 1].map(() => new wt.Worker(path.join(__dirname, 'fixtures', 'attach-race.js'), { workerData: { handle } }));
      const reports = workers.map((w) => once(w, 'message').then(([m]) => m as { attached: boolean; message?: unknown; code?: string }));
      const exits = workers.map((w) => once(w, 'exit'));
      await new Promise<void>((r) => setTimeout(r, round * 5));
      let mine: { attached: boolean; message?: unknown; code?: string };
      try {
        const p = attachPort(handle);
        mine = { attached: true, message: receiveMessageOnPort(p)?.message };
        p.close();
      } catch (e) {
        mine = { attached: false, code: (e as { code?: string }).code };
      }
      const all = [mine, ...(await Promise.all(reports))];
      await Promise.all(exits);
      expect(all.filter((r) => r.attached)).toEqual([{ attached: true, message: `queued ${round}` }]);
      for (const r of all.filter((x) => !x.attached)) expect(r.code).toBe('ERR_RINGPORT_HANDLE_INVALID');
      port1.close();
    }
    tried['attach races'] = rounds;
  });

  test.each<[string, unknown]>([
    ['a frozen copy with a string token', Object.freeze({ ringport: 'MessagePort', token: '123' })],
    ['token 0', { ringport: 'MessagePort', token: 0 }],
    ['token -0', { ringport: 'MessagePort', token: -0 }],
    ['token 2^53', { ringport: 'MessagePort', token: 2 ** 53 }],
    ['token NaN', { ringport: 'MessagePort', token: NaN }],
    ['token as BigInt', { ringport: 'MessagePort', token: 5n }],
    ['token as Number object', { ringport: 'MessagePort', token: Object(5) as unknown }],
    ['a Proxy of nothing', new Proxy({}, {})],
    ['an array', ['MessagePort', 5]],
    ['a function', () => 5],
  ])('%s: ERR_INVALID_ARG_TYPE', (_, handle) => {
    expect(shapeOf(() => attachPort(handle as never))).toEqual({
      class: 'TypeError',
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "handle" argument must be a handle returned by detachPort()',
    });
  });

  test('a handle whose reading throws: the error propagates unchanged, nothing is attached', () => {
    const { port1, port2 } = new MessageChannel();
    const real = detachPort(port2);
    const boom = new RangeError('getter');
    const tricky = {
      ringport: 'MessagePort',
      get token(): number {
        throw boom;
      },
    };
    expect(thrownBy(() => attachPort(tricky as never))?.error).toBe(boom);
    const port = attachPort(real);
    port.close();
    port1.close();
  });
});

describe('setPortOptions / getPortOptions', () => {
  test.each<[string, () => unknown]>([
    ['a Node MessagePort', () => new wt.MessageChannel().port1],
    ['undefined', () => undefined],
    ['a handle', () => ({ ringport: 'MessagePort', token: 1 })],
  ])('on %s: ERR_INVALID_ARG_TYPE', (_, make) => {
    const p = make();
    const expected = {
      class: 'TypeError',
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "port" argument must be a ringport MessagePort instance',
    };
    expect(shapeOf(() => setPortOptions(p as never, { batch: true }))).toEqual(expected);
    expect(shapeOf(() => getPortOptions(p as never))).toEqual(expected);
    (p as { close?: () => void } | undefined)?.close?.();
  });

  test('messages for the exact errors', () => {
    const { port1 } = new MessageChannel();
    expect(shapeOf(() => setPortOptions(port1, { batch: 1 as never }))).toEqual({
      class: 'TypeError',
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "options.batch" property must be of type boolean. Received type number (1)',
    });
    expect(shapeOf(() => setPortOptions(port1, { spin: NaN }))).toEqual({
      class: 'TypeError',
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "options.spin" property must be a number of microseconds from 0 to 1000000. Received type number (NaN)',
    });
    expect(getPortOptions(port1)).toEqual({ batch: false, spin: 0 });
    port1.close();
  });

  test('options that are not an object are ignored (documented here: no error, nothing changes)', () => {
    const { port1 } = new MessageChannel();
    setPortOptions(port1, { batch: true, spin: 3 });
    for (const options of [undefined, null, 1, 'batch', true, Symbol('s'), 10n]) {
      expect(outcome(() => setPortOptions(port1, options as never))).toBe('no error');
      expect(getPortOptions(port1)).toEqual({ batch: true, spin: 3 });
    }
    port1.close();
  });

  test('closed, closing and detached ports: no error, options readable', async () => {
    const a = new MessageChannel();
    a.port1.close();
    expect(outcome(() => setPortOptions(a.port1, { batch: true }))).toBe('no error');
    await once(a.port1, 'close');
    expect(outcome(() => setPortOptions(a.port1, { spin: 1 }))).toBe('no error');
    expect(getPortOptions(a.port1)).toEqual({ batch: true, spin: 1 });
    const b = new MessageChannel();
    const handle = detachPort(b.port2);
    expect(outcome(() => getPortOptions(b.port2))).toBe('no error');
    expect(outcome(() => setPortOptions(b.port2, { batch: true }))).toBe('no error');
    const attached = attachPort(handle);
    expect(getPortOptions(attached)).toEqual({ batch: false, spin: 0 });
    attached.close();
    b.port1.close();
  });
});

describe('former differences from Node, each on its own (regression tests)', () => {
  // Proxies run their traps where Node's C++ checks the receiver or the
  // transfer-list entry without touching them.
  const trapping = () =>
    new Proxy(
      {},
      {
        get() {
          throw new SyntaxError('get trap ran');
        },
        getPrototypeOf() {
          throw new SyntaxError('getPrototypeOf trap ran');
        },
      },
    );
  const revoked = () => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  };

  test.each(['postMessage', 'start', 'close', 'ref', 'unref', 'hasRef'])(
    'MessagePort.prototype.%s on a Proxy (trapping or revoked): "Illegal invocation", as Node',
    (method) => {
      for (const receiver of [trapping(), revoked()]) {
        const node = outcome(() => (wt.MessagePort.prototype as unknown as Record<string, Function>)[method].call(receiver, 1));
        const ours = outcome(() => (MessagePort.prototype as unknown as Record<string, Function>)[method].call(receiver, 1));
        expect(JSON.parse(node)).toMatchObject({ name: 'TypeError', message: 'Illegal invocation' });
        expect(ours).toBe(node);
      }
    },
  );

  test.each<[string, () => unknown]>([
    ['a trapping Proxy', trapping],
    ['a revoked Proxy', revoked],
  ])('%s in a transfer list: ERR_INVALID_TRANSFER_OBJECT, as Node', (_, make) => {
    const n = new wt.MessageChannel();
    const r = new MessageChannel();
    const node = outcome(() => n.port1.postMessage(1, [make()] as never));
    const ours = outcome(() => r.port1.postMessage(1, [make()]));
    n.port1.close();
    r.port1.close();
    expect(JSON.parse(node)).toMatchObject({ code: 'ERR_INVALID_TRANSFER_OBJECT' });
    expect(ours).toBe(node);
  });

  test('a revoked Proxy as the transfer list: the same TypeError as Node', () => {
    const n = new wt.MessageChannel();
    const r = new MessageChannel();
    const node = outcome(() => n.port1.postMessage(1, revoked() as never));
    const ours = outcome(() => r.port1.postMessage(1, revoked() as never));
    n.port1.close();
    r.port1.close();
    expect(JSON.parse(node)).toMatchObject({ class: 'TypeError' });
    expect(ours).toBe(node);
  });

  test.each<[string, (impl: typeof wt | { MessageChannel: typeof MessageChannel }) => unknown]>([
    [
      'closed',
      (impl) => {
        const c = new impl.MessageChannel();
        c.port1.close();
        return c.port1;
      },
    ],
    [
      'transferred away',
      (impl) => {
        const c = new impl.MessageChannel();
        const carrier = new impl.MessageChannel();
        carrier.port1.postMessage(null, [c.port1 as never]);
        carrier.port1.close();
        return c.port1;
      },
    ],
  ])('a %s port in the value, not in the transfer list: DataCloneError "Cannot transfer object of unsupported type."', (_, make) => {
    // (Only synchronously: Node 20.20.2 crashes on the transferred one after its 'close' event.)
    const n = new wt.MessageChannel();
    const r = new MessageChannel();
    const node = outcome(() => n.port1.postMessage({ p: make(wt) }));
    const ours = outcome(() => r.port1.postMessage({ p: make({ MessageChannel }) }));
    n.port1.close();
    r.port1.close();
    expect(JSON.parse(node)).toMatchObject({ name: 'DataCloneError', message: 'Cannot transfer object of unsupported type.' });
    expect(ours).toBe(node);
  });

  test.each<[string, () => unknown]>([
    ['options with a throwing getter', () => ({
      get batch(): boolean {
        throw new Error('getter ran');
      },
    })],
    ['a revoked Proxy', revoked],
  ])('new MessageChannel(%s) does not throw: Node ignores its arguments', (_, make) => {
    expect(outcome(() => new (wt.MessageChannel as unknown as new (o: unknown) => wt.MessageChannel)(make()).port1.close())).toBe('no error');
    expect(outcome(() => new MessageChannel(make() as never).port1.close())).toBe('no error');
  });
});
