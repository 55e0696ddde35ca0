// postMessage: argument validation, transfer lists, return values, and what
// happens on closed ports — the same on both implementations.
import * as wt from 'node:worker_threads';
import { MessageChannel, receiveMessageOnPort } from '..';
import { turns } from './helpers';

type AnyPort = any;
type Impl = { MessageChannel: new () => { port1: AnyPort; port2: AnyPort }; receiveMessageOnPort: (p: AnyPort) => any };
const impls: [string, Impl][] = [
  ['node:worker_threads', wt as unknown as Impl],
  ['ringport', { MessageChannel, receiveMessageOnPort } as unknown as Impl],
];

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
    return 'no error';
  } catch (e) {
    const err = e as { name: string; code?: unknown; message: string };
    return { name: err.name, code: err.code, message: err.message };
  }
}

describe.each(impls)('%s', (_, impl) => {
  let port1: AnyPort;
  let port2: AnyPort;
  beforeEach(() => {
    ({ port1, port2 } = new impl.MessageChannel());
  });
  afterEach(() => {
    port1.close();
    port2.close();
  });

  test('transfer options: arrays, iterables, {transfer}', async () => {
    for (const list of [[], new Set(), { transfer: [] }, {}, { transfer: undefined }, (function* () {})()]) {
      expect(port1.postMessage('x', list)).toBe(true);
    }
    await turns(2);
    let n = 0;
    while (impl.receiveMessageOnPort(port2)) n++;
    expect(n).toBe(6);
  });

  test('nothing is detached when serialization fails', () => {
    const ab = new ArrayBuffer(8);
    const c = new impl.MessageChannel();
    expect(() => port1.postMessage({ f() {} }, [ab, c.port1])).toThrow();
    expect(ab.byteLength).toBe(8);
    // The port is still usable.
    c.port1.postMessage('still open');
    expect(impl.receiveMessageOnPort(c.port2)).toEqual({ message: 'still open' });
    c.port1.close();
  });

  test('a transferred ArrayBuffer is detached, and its views with it', () => {
    const ab = new ArrayBuffer(8);
    const view = new Uint8Array(ab);
    view[0] = 7;
    port1.postMessage({ view }, [ab]);
    expect(ab.byteLength).toBe(0);
    expect(view.length).toBe(0);
    const { message } = impl.receiveMessageOnPort(port2);
    expect(message.view[0]).toBe(7);
    expect(message.view.buffer.byteLength).toBe(8);
  });

  test('ports through ports: new objects, unstarted, unref\'d, working', async () => {
    const c = new impl.MessageChannel();
    c.port1.on('message', () => {});
    port1.postMessage({ p: c.port1 }, [c.port1]);
    const { message } = await new Promise<any>((resolve) => port2.once('message', (m: unknown) => resolve({ message: m })));
    const received = message.p;
    expect(received).not.toBe(c.port1);
    expect(received.hasRef()).toBe(false);
    c.port2.postMessage('through');
    expect(impl.receiveMessageOnPort(received)).toEqual({ message: 'through' });
    received.close();
    c.port2.close();
  });

  test('return values: true, false once the peer is gone, undefined once closed', async () => {
    expect(port1.postMessage(1)).toBe(true);
    port2.postMessage('queued ahead of the close marker');
    port2.close();
    expect(port1.postMessage(2)).toBe(true); // the peer leaves in its close phase
    await turns(2);
    // Alone: port1 has not read the close marker (data is queued ahead of it
    // and port1 is not started).
    expect(port1.postMessage(3)).toBe(false);
    expect(impl.receiveMessageOnPort(port1)).toEqual({ message: 'queued ahead of the close marker' });
    port1.close();
    expect(port1.postMessage(4)).toBe(undefined);
  });
});

function validationErrors(impl: Impl): Record<string, unknown> {
  const { port1, port2 } = new impl.MessageChannel();
  const ab = new ArrayBuffer(4);
  const closed = new impl.MessageChannel();
  closed.port1.close();
  const spare = new impl.MessageChannel();
  const cases: [string, () => unknown][] = [
    ['no arguments', () => port1.postMessage()],
    ['number as transfer', () => port1.postMessage(1, 5)],
    ['string as transfer', () => port1.postMessage(1, 'ab')],
    ['{transfer: null}', () => port1.postMessage(1, { transfer: null })],
    ['{transfer: 0}', () => port1.postMessage(1, { transfer: 0 })],
    ['number in list', () => port1.postMessage(1, [1])],
    ['object in list', () => port1.postMessage(1, [{}])],
    ['typed array in list', () => port1.postMessage(1, [new Uint8Array(2)])],
    ['duplicate buffer', () => port1.postMessage(1, [ab, ab])],
    ['source port', () => port1.postMessage(1, [port1])],
    ['closed port', () => port1.postMessage(1, [closed.port1])],
    ['duplicate port', () => port1.postMessage(1, [spare.port1, spare.port1])],
    ['function', () => port1.postMessage(() => 1)],
    ['symbol', () => port1.postMessage(Symbol('x'))],
    ['port in value, not listed', () => port1.postMessage({ p: spare.port1 })],
    ['buffer skipped after error', () => port1.postMessage(1, [ab, 7])],
  ];
  const errors = Object.fromEntries(cases.map(([name, fn]) => [name, errorOf(fn)]));
  errors['buffer still attached'] = ab.byteLength;
  for (const p of [port1, port2, spare.port1, spare.port2]) p.close();
  return errors;
}

test('postMessage throws what Node throws, in Node order, detaching nothing', () => {
  const node = validationErrors(impls[0][1]);
  expect(node['no arguments']).toEqual({ name: 'TypeError', code: 'ERR_MISSING_ARGS', message: 'Not enough arguments to MessagePort.postMessage' });
  expect(node['duplicate buffer']).toEqual({ name: 'DataCloneError', code: 25, message: 'Transfer list contains duplicate ArrayBuffer' });
  expect(validationErrors(impls[1][1])).toEqual(node);
});
