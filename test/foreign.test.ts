// Values only Node's serializer can carry travel beside the ring, in order,
// on one thread and across threads, and with ports that move.
import { once } from 'node:events';
import { Blob } from 'node:buffer';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { createHistogram } from 'node:perf_hooks';
import * as wt from 'node:worker_threads';
import { types } from 'node:util';
import { MessageChannel, receiveMessageOnPort, detachPort, type MessagePort } from '..';
import { exited, startWorker, turns } from './helpers';

// This TypeScript setup has no DOM lib, which is where WebAssembly is typed.
const WebAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyNamespace }).WebAssembly;
interface WebAssemblyNamespace {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer };
}

function roundTrip(value: unknown, transfer?: unknown[]): unknown {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(value, transfer as never);
    return (receiveMessageOnPort(port2) as { message: unknown }).message;
  } finally {
    port1.close();
  }
}

describe('on one thread', () => {
  test('a SharedArrayBuffer arrives as a new object over the same memory', () => {
    const sab = new SharedArrayBuffer(8);
    const got = roundTrip({ sab, view: new Int32Array(sab), again: sab }) as { sab: SharedArrayBuffer; view: Int32Array; again: SharedArrayBuffer };
    expect(got.sab).not.toBe(sab);
    expect(got.again).toBe(got.sab);
    expect(got.view.buffer).toBe(got.sab);
    Atomics.store(new Int32Array(sab), 0, 42);
    expect(Atomics.load(got.view, 0)).toBe(42);
  });

  test("Node's host objects are cloned as Node clones them", () => {
    const key = crypto.createSecretKey(Buffer.from('0123456789abcdef'));
    const blocklist = new net.BlockList();
    blocklist.addAddress('10.0.0.1');
    const histogram = createHistogram();
    histogram.record(5);
    const got = roundTrip({ blob: new Blob(['abc']), key, blocklist, address: new net.SocketAddress({ address: '10.1.2.3' }), histogram }) as Record<string, any>;
    expect(got.blob.size).toBe(3);
    expect(got.key.export().toString()).toBe('0123456789abcdef');
    expect(got.blocklist.check('10.0.0.1')).toBe(true);
    expect(got.address.address).toBe('10.1.2.3');
    expect(got.histogram.count).toBe(1);
  });

  test("Node's own MessagePorts transfer, and show in event.ports", async () => {
    const node = new wt.MessageChannel();
    const { port1, port2 } = new MessageChannel();
    const event = new Promise<any>((resolve) => port2.addEventListener('message', resolve, { once: true }));
    port1.postMessage({ p: node.port1 }, [node.port1]);
    const e = await event;
    expect(e.data.p).toBeInstanceOf(wt.MessagePort);
    expect(e.ports).toEqual([e.data.p]);
    e.data.p.postMessage('through Node');
    expect(wt.receiveMessageOnPort(node.port2)).toEqual({ message: 'through Node' });
    e.data.p.close();
    port1.close();
  });

  test('a WebAssembly module and shared memory', () => {
    // (module (memory (import "m" "mem") 1 1 shared))
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const module = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const got = roundTrip({ module, buffer: memory.buffer }) as { module: object; buffer: SharedArrayBuffer };
    expect(Object.prototype.toString.call(got.module)).toBe('[object WebAssembly.Module]');
    new Uint8Array(memory.buffer)[0] = 7;
    expect(new Uint8Array(got.buffer)[0]).toBe(7);
  });

  test('a large transferred ArrayBuffer moves (detached here, same bytes there)', () => {
    const buffer = new ArrayBuffer(1 << 20);
    new Uint8Array(buffer)[123] = 45;
    const got = roundTrip(buffer, [buffer]) as ArrayBuffer;
    expect(buffer.byteLength).toBe(0);
    expect(got.byteLength).toBe(1 << 20);
    expect(new Uint8Array(got)[123]).toBe(45);
  });

  test("Node's errors for what Node's serializer refuses, with nothing detached", () => {
    const node = new wt.MessageChannel();
    const buffer = new ArrayBuffer(1 << 20);
    const { port1 } = new MessageChannel();
    expect(() => port1.postMessage({ p: node.port1 }, [buffer])).toThrow(
      expect.objectContaining({ code: 'ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST' }),
    );
    expect(buffer.byteLength).toBe(1 << 20);
    node.port1.close();
    expect(() => port1.postMessage(1, [node.port1])).toThrow(
      expect.objectContaining({ name: 'DataCloneError', message: 'MessagePort in transfer list is already detached' }),
    );
    expect(() => port1.postMessage(1, [node.port2, node.port2])).toThrow(
      expect.objectContaining({ name: 'DataCloneError', message: 'Transfer list contains duplicate MessagePort' }),
    );
    port1.close();
    node.port2.close();
  });

  test('order is kept between ordinary and side-channel messages', async () => {
    const { port1, port2 } = new MessageChannel();
    const sab = new SharedArrayBuffer(4);
    const got: unknown[] = [];
    port2.on('message', (v) => got.push(types.isSharedArrayBuffer(v) ? 'sab' : v));
    port1.postMessage(1);
    port1.postMessage(sab);
    port1.postMessage(2);
    port1.postMessage(sab);
    port1.postMessage(3);
    await turns(3);
    expect(got).toEqual([1, 'sab', 2, 'sab', 3]);
    port1.close();
  });
});

describe('across threads', () => {
  function withWorker() {
    const { port1, port2 } = new MessageChannel();
    const worker = startWorker('foreign-worker.js', { port: detachPort(port2) });
    return { port: port1, exit: exited(worker) };
  }

  async function next(port: MessagePort): Promise<any> {
    return (await once(port, 'message'))[0];
  }

  test('a SharedArrayBuffer is shared with the worker', async () => {
    const { port, exit } = withWorker();
    const sab = new SharedArrayBuffer(8);
    Atomics.store(new Int32Array(sab), 0, 7);
    port.postMessage({ sab });
    expect(await next(port)).toEqual({ kind: 'sab', shared: true, first: 7 });
    expect(Atomics.load(new Int32Array(sab), 1)).toBe(99);
    port.postMessage('close');
    await exit;
  });

  test("a Node MessagePort and a 1 MiB buffer reach the worker", async () => {
    const { port, exit } = withWorker();
    const node = new wt.MessageChannel();
    port.postMessage({ nodePort: node.port1 }, [node.port1]);
    expect(await next(port)).toEqual({ kind: 'nodePort', isNodePort: true });
    expect((await once(node.port2, 'message'))[0]).toBe('hello through a Node port from the worker');
    node.port2.close();
    const big = new ArrayBuffer(1 << 20);
    new Uint8Array(big)[0] = 200;
    port.postMessage({ big }, [big]);
    expect(await next(port)).toEqual({ kind: 'big', length: 1 << 20, first: 200 });
    port.postMessage('close');
    await exit;
  });

  test('a port moving to a worker takes the items waiting for it along', async () => {
    const { port, exit } = withWorker();
    const { port1, port2 } = new MessageChannel();
    const sab = new SharedArrayBuffer(4);
    // Queued here for port2 (items in this thread's stash), then port2 moves.
    port1.postMessage(sab);
    port1.postMessage('middle');
    port1.postMessage(sab);
    port.postMessage({ relay: port2 }, [port2]);
    port1.postMessage(sab); // sent after the move
    port1.postMessage('end');
    expect(await next(port)).toEqual({ kind: 'relay', got: ['sab', 'middle', 'sab', 'sab', 'end'] });
    port1.close();
    port.postMessage('close');
    await exit;
  });
});
