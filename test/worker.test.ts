// Across threads: ports handed to workers, streams both ways, ports inside
// messages, and the peer's 'close' when a worker closes, exits or dies.
import { once } from 'node:events';
import { MessageChannel, detachPort, attachPort, type MessagePort } from '..';
import { exited, startWorker } from './helpers';

function withWorker(fixture: string, extra: Record<string, unknown> = {}) {
  const { port1, port2 } = new MessageChannel();
  const worker = startWorker(fixture, { port: detachPort(port2), ...extra });
  worker.on('error', () => {});
  return { port: port1, worker, exit: exited(worker).catch(() => -1) };
}

async function next(port: MessagePort): Promise<unknown> {
  const [value] = await once(port, 'message');
  return value;
}

test('README example: a port handed to a worker with detachPort/attachPort', async () => {
  const { port, worker } = withWorker('echo-worker.js');
  port.postMessage({ hello: 'world' });
  expect(await next(port)).toEqual({ hello: 'world' });
  port.postMessage('exit');
  expect(await exited(worker)).toBe(0);
});

test('messages queued before the worker attaches are all delivered, in order', async () => {
  const { port1, port2 } = new MessageChannel();
  for (let i = 0; i < 1000; i++) port1.postMessage(i);
  const worker = startWorker('echo-worker.js', { port: detachPort(port2) });
  const got: unknown[] = [];
  port1.on('message', (v) => got.push(v));
  while (got.length < 1000) await new Promise((r) => setTimeout(r, 5));
  expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  port1.postMessage('exit');
  await exited(worker);
  port1.close();
});

test('a stream from a worker arrives complete and in order', async () => {
  const count = 200000;
  const { port, exit } = withWorker('stream-worker.js', { count });
  let expected = 0;
  let bad = 0;
  await new Promise<void>((resolve) => {
    port.on('message', (v) => {
      if (v === 'done') return resolve();
      if (v !== expected++) bad++;
    });
  });
  expect(bad).toBe(0);
  expect(expected).toBe(count);
  port.close();
  expect(await exit).toBe(0);
});

test('a transferred ArrayBuffer is detached in the sender and arrives intact', async () => {
  const { port, worker } = withWorker('echo-worker.js');
  const buffer = new Uint8Array([1, 2, 3, 4]).buffer;
  port.postMessage(buffer, [buffer]);
  expect(buffer.byteLength).toBe(0);
  const back = (await next(port)) as ArrayBuffer;
  expect(Array.from(new Uint8Array(back))).toEqual([1, 2, 3, 4]);
  port.postMessage('exit');
  await exited(worker);
  port.close();
});

test('a ringport port travels inside a message to a worker and works there', async () => {
  const { port, worker } = withWorker('echo-worker.js');
  const { port1, port2 } = new MessageChannel();
  port.postMessage({ port: port2 }, [port2]);
  expect(await next(port)).toBe('got a port');
  expect(await next(port1)).toBe('hello from the worker');
  port1.postMessage('ping');
  expect(await next(port1)).toBe('echo:ping');
  port.postMessage('exit');
  await exited(worker);
  port.close();
  port1.close();
});

test.each([
  ['closes its port', 'close'],
  ['exits', 'exit'],
  ['throws an uncaught error', 'throw'],
])('the peer gets close when the worker %s', async (_, command) => {
  const { port, exit } = withWorker('echo-worker.js');
  const closed = once(port, 'close');
  port.postMessage(command);
  await closed;
  expect(port.hasRef()).toBe(false);
  await exit;
});

test('the peer gets close when the worker is terminated mid-stream', async () => {
  const { port, worker } = withWorker('stream-worker.js', { count: 1e7 });
  let received = 0;
  port.on('message', () => received++);
  while (received < 1000) await new Promise((r) => setTimeout(r, 1));
  const closed = once(port, 'close');
  await worker.terminate();
  await closed;
  expect(received).toBeGreaterThan(0);
});

test('attachPort: a handle attaches once; forged and malformed handles throw', () => {
  const { port1, port2 } = new MessageChannel();
  const handle = detachPort(port2);
  expect(JSON.parse(JSON.stringify(handle))).toEqual(handle);
  const again = attachPort(handle);
  expect(() => attachPort(handle)).toThrow(expect.objectContaining({ code: 'ERR_RINGPORT_HANDLE_INVALID' }));
  expect(() => attachPort({ ringport: 'MessagePort', token: 12345 })).toThrow(
    expect.objectContaining({ code: 'ERR_RINGPORT_HANDLE_INVALID' }),
  );
  for (const bad of [undefined, null, 1, 'x', {}, { ringport: 'MessagePort' }, { ringport: 'MessagePort', token: -1 }, { ringport: 'MessagePort', token: 1.5 }]) {
    expect(() => attachPort(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  }
  expect(() => detachPort(port2)).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
  expect(() => detachPort({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  port1.close();
  again.close();
});
