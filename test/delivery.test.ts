// Delivery: asynchronous, FIFO, nextTicks and microtasks between messages
// (default) or after a batch (batch mode), listeners and event objects.
import { once, on } from 'node:events';
import * as wt from 'node:worker_threads';
import { MessageChannel, MessageEvent, setPortOptions, getPortOptions } from '..';
import { runScript, turns } from './helpers';

type Impl = { MessageChannel: new () => { port1: any; port2: any } };
const impls: [string, Impl][] = [
  ['node:worker_threads', wt as unknown as Impl],
  ['ringport', { MessageChannel } as unknown as Impl],
];

describe.each(impls)('%s', (_, impl) => {
  test('delivery is asynchronous and in order', async () => {
    const { port1, port2 } = new impl.MessageChannel();
    const got: unknown[] = [];
    port2.on('message', (v: unknown) => got.push(v));
    for (let i = 0; i < 100; i++) port1.postMessage(i);
    expect(got).toEqual([]);
    await turns(3);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    port1.close();
  });

  test('nextTicks and microtasks run between two messages', async () => {
    const { port1, port2 } = new impl.MessageChannel();
    const log: string[] = [];
    port2.on('message', (v: number) => {
      log.push(`msg${v}`);
      process.nextTick(() => log.push(`tick${v}`));
      queueMicrotask(() => log.push(`micro${v}`));
    });
    port1.postMessage(1);
    port1.postMessage(2);
    port1.postMessage(3);
    await turns(3);
    expect(log).toEqual(['msg1', 'tick1', 'micro1', 'msg2', 'tick2', 'micro2', 'msg3', 'tick3', 'micro3']);
    port1.close();
  });

  test('on() gets the value, addEventListener() a MessageEvent', async () => {
    const { port1, port2 } = new impl.MessageChannel();
    const values: unknown[] = [];
    const events: any[] = [];
    port2.on('message', (v: unknown) => values.push(v));
    port2.addEventListener('message', (e: any) => events.push(e));
    port1.postMessage({ a: 1 });
    await turns(3);
    expect(values).toEqual([{ a: 1 }]);
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('message');
    expect(events[0].data).toEqual({ a: 1 });
    expect(events[0].ports).toEqual([]);
    expect(events[0].target).toBe(port2);
    expect(events[0]).toBeInstanceOf(Object.getPrototypeOf(events[0].constructor.prototype).constructor);
    port1.close();
  });

  test('onmessage starts the port and receives a MessageEvent', async () => {
    const { port1, port2 } = new impl.MessageChannel();
    const got = new Promise<any>((resolve) => {
      port2.onmessage = resolve;
    });
    port1.postMessage('x');
    const event = await got;
    expect(event.data).toBe('x');
    expect(port2.onmessage).toBeInstanceOf(Function);
    port2.onmessage = null;
    expect(port2.onmessage).toBe(null);
    port1.close();
  });

  test('events.once() and events.on() work', async () => {
    const { port1, port2 } = new impl.MessageChannel();
    port1.postMessage('first');
    expect(await once(port2, 'message')).toEqual(['first']);
    port1.postMessage('a');
    port1.postMessage('b');
    const seen: unknown[] = [];
    for await (const [v] of on(port2, 'message')) {
      seen.push(v);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['a', 'b']);
    port1.close();
  });

  test('messages queue until a listener is added, then arrive in order', async () => {
    const { port1, port2 } = new impl.MessageChannel();
    port1.postMessage(1);
    port1.postMessage(2);
    await turns(3);
    const got: unknown[] = [];
    port2.on('message', (v: unknown) => got.push(v));
    await turns(3);
    expect(got).toEqual([1, 2]);
    port1.close();
  });
});

describe('ringport MessageEvent', () => {
  test('is an instance of the global MessageEvent and accepts ringport ports', () => {
    const { port1, port2 } = new MessageChannel();
    const event = new MessageEvent('message', { data: 1, ports: [port1] });
    expect(event).toBeInstanceOf(globalThis.MessageEvent);
    expect(event.ports).toEqual([port1]);
    expect(event.data).toBe(1);
    expect(() => new MessageEvent('message', { ports: [{} as any] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    port1.close();
    port2.close();
  });
});

describe('batch mode', () => {
  test('ticks and microtasks run after the batch', async () => {
    const { port1, port2 } = new MessageChannel({ batch: true });
    expect(getPortOptions(port2)).toEqual({ batch: true, spin: 0 });
    const log: string[] = [];
    port2.on('message', (v: number) => {
      log.push(`msg${v}`);
      process.nextTick(() => log.push(`tick${v}`));
      queueMicrotask(() => log.push(`micro${v}`));
    });
    port1.postMessage(1);
    port1.postMessage(2);
    await turns(3);
    expect(log).toEqual(['msg1', 'msg2', 'tick1', 'tick2', 'micro1', 'micro2']);
    port1.close();
  });

  test('setPortOptions switches a port, and back', async () => {
    const { port1, port2 } = new MessageChannel();
    setPortOptions(port2, { batch: true });
    const log: string[] = [];
    port2.on('message', (v: number) => {
      log.push(`msg${v}`);
      process.nextTick(() => log.push(`tick${v}`));
    });
    port1.postMessage(1);
    port1.postMessage(2);
    await turns(3);
    setPortOptions(port2, { batch: false });
    port1.postMessage(3);
    port1.postMessage(4);
    await turns(3);
    expect(log).toEqual(['msg1', 'msg2', 'tick1', 'tick2', 'msg3', 'tick3', 'msg4', 'tick4']);
    port1.close();
  });
});

describe.each(['node:worker_threads', '.'])('listener errors (%s, own process)', (module) => {
  test('reach uncaughtException; later messages still arrive', async () => {
    const result = await runScript(`
      const { MessageChannel } = require(${JSON.stringify(module)});
      const { port1, port2 } = new MessageChannel();
      const log = [];
      process.on('uncaughtException', (e) => log.push('uncaught:' + e.message));
      port2.on('message', (v) => { log.push('msg' + v); if (v === 1) throw new Error('failed'); });
      port1.postMessage(1);
      port1.postMessage(2);
      setTimeout(() => { console.log(JSON.stringify(log)); port1.close(); }, 50);
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(['msg1', 'uncaught:failed', 'msg2']);
  });

  test('without a handler the process reports the error and exits with 1', async () => {
    const result = await runScript(`
      const { MessageChannel } = require(${JSON.stringify(module)});
      const { port1, port2 } = new MessageChannel();
      port2.on('message', () => { throw new Error('nobody catches this'); });
      port1.postMessage(1);
    `);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error: nobody catches this');
  });
});
