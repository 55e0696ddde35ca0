// receiveMessageOnPort(port, { timeout }): blocking receive for synchronous
// calls to a worker (README, "Synchronous calls").
import { Worker } from 'node:worker_threads';

import { MessageChannel, detachPort, receiveMessageOnPort, type MessagePort } from '../dist';
import { exited, startWorker, turns } from './helpers';

function server(options?: { spin: number }): { port: MessagePort; worker: Worker } {
  const { port1, port2 } = new MessageChannel(options);
  const worker = startWorker('sync-server.js', { port: detachPort(port2) });
  return { port: port1, worker };
}

/** The synchronous call pattern of the README: ids make a late reply harmless. */
let nextId = 0;
function call(port: MessagePort, request: object, timeout: number): unknown {
  const id = ++nextId;
  port.postMessage({ id, ...request });
  for (;;) {
    const reply = receiveMessageOnPort(port, { timeout });
    if (reply === undefined) return undefined; // timed out, or the server closed
    const { id: replyId, result } = reply.message as { id: number; result: unknown };
    if (replyId === id) return result;
    // A reply to an earlier call that timed out: skip it.
  }
}

describe('receiveMessageOnPort(port, { timeout })', () => {
  test('without options, or with timeout 0, it never blocks (Node behaviour)', () => {
    const { port1, port2 } = new MessageChannel();
    const start = performance.now();
    expect(receiveMessageOnPort(port2)).toBeUndefined();
    expect(receiveMessageOnPort(port2, {})).toBeUndefined();
    expect(receiveMessageOnPort(port2, { timeout: 0 })).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(1000);
    port1.postMessage('queued');
    expect(receiveMessageOnPort(port2, { timeout: 0 })).toEqual({ message: 'queued' });
    expect(receiveMessageOnPort.length).toBe(1);
    port1.close();
  });

  test('returns a queued message at once, and undefined when the time runs out', () => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(1);
    expect(receiveMessageOnPort(port2, { timeout: 10_000 })).toEqual({ message: 1 });
    const start = performance.now();
    expect(receiveMessageOnPort(port2, { timeout: 50 })).toBeUndefined();
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
    port1.close();
  });

  test.each([
    [{ timeout: -1 }, RangeError, 'ERR_OUT_OF_RANGE', 'The value of "options.timeout" is out of range. It must be >= 0. Received -1'],
    [{ timeout: NaN }, RangeError, 'ERR_OUT_OF_RANGE', 'The value of "options.timeout" is out of range. It must be >= 0. Received NaN'],
    [{ timeout: '5' }, TypeError, 'ERR_INVALID_ARG_TYPE', `The "options.timeout" property must be of type number. Received type string ('5')`],
    [{ timeout: 5n }, TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.timeout" property must be of type number. Received type bigint (5n)'],
    [null, TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object. Received null'],
    [7, TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object. Received type number (7)'],
  ])('options %p: %p %s, and the port stays usable', (options, ErrorClass, code, message) => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage('kept');
    let thrown: unknown;
    try {
      receiveMessageOnPort(port2, options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ErrorClass);
    expect(thrown).toMatchObject({ code, message });
    expect(receiveMessageOnPort(port2, { timeout: 1000 })).toEqual({ message: 'kept' });
    port1.close();
  });

  test('synchronous calls to a worker: the post wakes the blocked receiver on both sides', async () => {
    const { port, worker } = server();
    for (let i = 0; i < 2000; i++) expect(call(port, { op: 'double', value: i }, 10_000)).toBe(2 * i);
    port.postMessage('close');
    expect(receiveMessageOnPort(port, { timeout: Infinity })).toBeUndefined(); // the server closed
    expect(await exited(worker)).toBe(0);
  });

  test('with the spin option too', async () => {
    const { port, worker } = server({ spin: 50 });
    for (let i = 0; i < 500; i++) expect(call(port, { op: 'double', value: i }, 10_000)).toBe(2 * i);
    port.postMessage('close');
    expect(await exited(worker)).toBe(0);
  });

  test('a reply that arrives after its caller gave up is never taken as the next answer', async () => {
    const { port, worker } = server();
    expect(call(port, { op: 'sleep', ms: 300 }, 20)).toBeUndefined(); // gave up
    // The late 'slept' reply is queued before this answer: the id skips it.
    expect(call(port, { op: 'double', value: 21 }, 10_000)).toBe(42);
    port.postMessage('close');
    expect(await exited(worker)).toBe(0);
  });

  test('a closed peer ends the wait at once, after the messages it sent first', async () => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(
      `const { attachPort } = require(${JSON.stringify(require.resolve('../dist'))});
       const port = attachPort(require('node:worker_threads').workerData.port);
       setTimeout(() => { port.postMessage('last words'); port.close(); }, 50);`,
      { eval: true, workerData: { port: detachPort(port2) } },
    );
    // Listen now: the worker may exit before 'close' is dispatched here.
    const exit = exited(worker);
    const closed = new Promise((resolve) => port1.once('close', resolve));
    expect(receiveMessageOnPort(port1, { timeout: Infinity })).toEqual({ message: 'last words' });
    const start = performance.now();
    expect(receiveMessageOnPort(port1, { timeout: Infinity })).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(5000);
    await closed;
    expect(await exit).toBe(0);
  });

  test('a server that exits while the caller is blocked: the wait ends, the port closes', async () => {
    const { port, worker } = server();
    port.postMessage('exit');
    expect(receiveMessageOnPort(port, { timeout: Infinity })).toBeUndefined();
    expect(await exited(worker)).toBe(0);
    await turns(2);
  });

  test('terminate() ends a worker blocked in an infinite wait, and its peer gets close', async () => {
    const { port, worker } = server();
    const closed = new Promise((resolve) => port.once('close', resolve));
    expect(call(port, { op: 'double', value: 1 }, 10_000)).toBe(2); // it is blocked again now
    await worker.terminate();
    await closed;
  });
});
