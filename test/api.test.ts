// The package's public surface: names, constructors, prototype.
import * as ringport from '..';
import { MessageChannel, MessagePort, getPortOptions, setPortOptions } from '..';
import * as wt from 'node:worker_threads';

describe('package exports', () => {
  test('the documented names, and nothing else', () => {
    expect(Object.keys(ringport).sort()).toEqual(
      [
        'MessageChannel',
        'MessageEvent',
        'MessagePort',
        'attachPort',
        'detachPort',
        'getPortOptions',
        'receiveMessageOnPort',
        'setPortOptions',
        'BroadcastChannel',
        // ringport's Worker (README, A faster Worker) and the rest of node:worker_threads' surface
        'Worker',
        'parentPort',
        'workerData',
        'isMainThread',
        'threadId',
        'resourceLimits',
        'SHARE_ENV',
        'markAsUntransferable',
        'moveMessagePortToContext',
        'getEnvironmentData',
        'setEnvironmentData',
      ].sort(),
    );
  });
});

describe('MessagePort constructor', () => {
  test.each([
    ['new MessagePort()', () => new (MessagePort as unknown as new () => unknown)()],
    ['MessagePort()', () => (MessagePort as unknown as () => unknown)()],
  ])('%s throws ERR_CONSTRUCT_CALL_INVALID', (_, call) => {
    expect(call).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_CONSTRUCT_CALL_INVALID', message: 'Constructor cannot be called' }));
  });

  test('ports are instances of MessagePort and EventTarget, constructor is MessagePort', () => {
    const { port1, port2 } = new MessageChannel();
    for (const port of [port1, port2]) {
      expect(port).toBeInstanceOf(MessagePort);
      expect(port.constructor).toBe(MessagePort);
      expect(Object.getPrototypeOf(Object.getPrototypeOf(MessagePort.prototype))).toBe(
        Object.getPrototypeOf(Object.getPrototypeOf(wt.MessagePort.prototype)),
      );
      port.close();
    }
    expect(MessagePort.length).toBe(0);
    expect(MessageChannel.length).toBe(0);
    expect(port1.postMessage.length).toBe(0);
  });

  test("MessagePort.prototype has exactly Node's own property names", () => {
    expect(Object.getOwnPropertyNames(MessagePort.prototype).sort()).toEqual(
      Object.getOwnPropertyNames(wt.MessagePort.prototype).sort(),
    );
  });
});

describe('MessageChannel', () => {
  test('without new: ERR_CONSTRUCT_CALL_REQUIRED', () => {
    expect(() => (MessageChannel as unknown as () => unknown)()).toThrow(
      expect.objectContaining({ code: 'ERR_CONSTRUCT_CALL_REQUIRED' }),
    );
  });

  test('port1 and port2 are own enumerable writable data properties', () => {
    const channel = new MessageChannel();
    for (const key of ['port1', 'port2']) {
      const d = Object.getOwnPropertyDescriptor(channel, key);
      expect(d).toMatchObject({ enumerable: true, writable: true, configurable: true });
    }
    channel.port1.close();
  });

  test('arguments that are not options are ignored, as by Node', () => {
    for (const arg of [1, 'x', null, undefined, true]) {
      const { port1 } = new (MessageChannel as unknown as new (a: unknown) => { port1: { close(): void } })(arg);
      port1.close();
    }
  });

  test('options of the wrong type are ignored by the constructor, rejected by setPortOptions', () => {
    const { port1, port2 } = new MessageChannel({ batch: 'yes' as unknown as boolean, spin: -1 });
    expect(getPortOptions(port1)).toEqual({ batch: false, spin: 0 });
    expect(() => setPortOptions(port2, { batch: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => setPortOptions(port2, { spin: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    port1.close();
  });
});
