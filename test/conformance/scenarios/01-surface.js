'use strict';
// NODE_SEMANTICS.md section 1: module surface, constructors, prototype chain,
// inspect, async_hooks.
const util = require('node:util');
const { protoChain } = require('../harness/describe');
const scenario = require('../harness/define')(module);

function describeFunction(fn) {
  if (typeof fn !== 'function') return typeof fn;
  const name = Object.getOwnPropertyDescriptor(fn, 'name');
  const length = Object.getOwnPropertyDescriptor(fn, 'length');
  return {
    name: name && name.value,
    length: length && length.value,
    hasPrototype: Object.prototype.hasOwnProperty.call(fn, 'prototype'),
  };
}

function descriptorSummary(obj, key) {
  const d = Object.getOwnPropertyDescriptor(obj, key);
  if (!d) return 'absent';
  const flags = `${'value' in d ? (d.writable ? 'w' : '-') : 'a'}${d.enumerable ? 'e' : '-'}${d.configurable ? 'c' : '-'}`;
  if ('value' in d) return [flags, typeof d.value === 'function' ? describeFunction(d.value) : typeof d.value];
  return [flags, `get:${typeof d.get}`, `set:${typeof d.set}`];
}

scenario('exports: MessageChannel, MessagePort, receiveMessageOnPort', [1], (t) => {
  const { MessageChannel, MessagePort, receiveMessageOnPort } = t.impl;
  t.log('MessageChannel', describeFunction(MessageChannel));
  t.log('MessagePort', describeFunction(MessagePort));
  t.log('receiveMessageOnPort', describeFunction(receiveMessageOnPort));
});

scenario('events are instances of the global MessageEvent', [2, 29], async (t) => {
  const { port1, port2 } = t.channel();
  const got = new Promise((resolve) => port2.addEventListener('message', resolve, { once: true }));
  port1.postMessage(1);
  const e = await got;
  t.log('instanceof global MessageEvent', e instanceof globalThis.MessageEvent);
  t.log('constructor is the global MessageEvent', e.constructor === globalThis.MessageEvent);
  t.log('constructor name', e.constructor.name);
  t.log('proto chain', protoChain(e));
  t.log('instanceof Event', e instanceof Event);
});

scenario('new MessagePort() and MessagePort() throw', [3], (t) => {
  const { MessagePort } = t.impl;
  t.logTry('new MessagePort()', () => new MessagePort());
  t.logTry('MessagePort()', () => MessagePort());
  t.logTry('MessagePort.call({})', () => MessagePort.call({}));
  t.logTry('Reflect.construct(MessagePort, [], Object)', () => Reflect.construct(MessagePort, [], Object));
  t.log('typeof MessagePort.prototype', typeof MessagePort.prototype);
  t.log('prototype.constructor === MessagePort', MessagePort.prototype.constructor === MessagePort);
});

scenario('ports are instanceof MessagePort, constructor === MessagePort', [3], (t) => {
  const { MessagePort } = t.impl;
  const { port1, port2 } = t.channel();
  t.log('port1 instanceof', port1 instanceof MessagePort);
  t.log('port2 instanceof', port2 instanceof MessagePort);
  t.log('constructor', port1.constructor === MessagePort);
  t.log('port1 !== port2', port1 !== port2);
  t.log('own string keys', Object.getOwnPropertyNames(port1));
});

scenario('MessageChannel() without new throws', [4], (t) => {
  const { MessageChannel } = t.impl;
  t.logTry('MessageChannel()', () => MessageChannel());
  t.logTry('MessageChannel.call({})', () => MessageChannel.call({}));
});

scenario('new MessageChannel(...anything) ignores its arguments', [4], (t) => {
  const { MessageChannel } = t.impl;
  const args = [
    [1, 2, 3],
    [{}],
    [null],
    ['x'],
    [{ batch: 'yes' }],
    [{ batch: true }],
    [{ spin: -1 }],
    [{ spin: 'fast' }],
    [{ transfer: [] }],
  ];
  for (const a of args) {
    t.logTry(`new MessageChannel(${util.inspect(a)})`, () => {
      const ch = new MessageChannel(...a);
      const ok = typeof ch.port1.postMessage === 'function';
      ch.port1.close();
      return ok;
    });
  }
});

scenario('port1/port2 are own enumerable writable configurable data properties', [4], (t) => {
  const { MessageChannel } = t.impl;
  const ch = new MessageChannel();
  t.label(ch.port1, 'port1');
  t.label(ch.port2, 'port2');
  t.log('own keys', Reflect.ownKeys(ch).map(String));
  t.log('port1', descriptorSummary(ch, 'port1')[0]);
  t.log('port2', descriptorSummary(ch, 'port2')[0]);
  t.log('Object.keys', Object.keys(ch));
  t.log('proto chain', protoChain(ch));
  t.log('toString', Object.prototype.toString.call(ch));
  t.log('instanceof', ch instanceof MessageChannel);
  t.log('prototype own names', Object.getOwnPropertyNames(MessageChannel.prototype).sort());
  ch.port1 = 42;
  t.log('port1 after assignment', ch.port1);
  t.log('delete port2', delete ch.port2);
  t.raw('inspect of a channel whose ports were replaced', util.inspect(ch));
});

scenario('lengths: MessageChannel, MessagePort, postMessage', [4], (t) => {
  const { MessageChannel, MessagePort } = t.impl;
  t.log('MessageChannel.length', MessageChannel.length);
  t.log('MessagePort.length', MessagePort.length);
  t.log('postMessage.length', MessagePort.prototype.postMessage.length);
});

scenario('prototype chain: MessagePort -> NodeEventTarget -> EventTarget', [5], (t) => {
  const { MessagePort } = t.impl;
  const { port1 } = t.channel();
  t.log('chain', protoChain(port1));
  t.log('instanceof EventTarget', port1 instanceof EventTarget);
  t.log('MessagePort static chain', protoChain(MessagePort));
  t.log('Object.getPrototypeOf(MessagePort).name', Object.getPrototypeOf(MessagePort).name);
  const net = Object.getPrototypeOf(MessagePort.prototype);
  t.log('NodeEventTarget.prototype own names', Object.getOwnPropertyNames(net).sort());
  t.log('EventTarget.prototype is the global one', Object.getPrototypeOf(net) === EventTarget.prototype);
});

scenario('MessagePort.prototype own property names (exact, sorted)', [5], (t) => {
  const { MessagePort } = t.impl;
  t.log('names', Object.getOwnPropertyNames(MessagePort.prototype).sort());
});

scenario('MessagePort.prototype property descriptors', [5, 41], (t) => {
  const { MessagePort } = t.impl;
  for (const name of Object.getOwnPropertyNames(MessagePort.prototype).sort()) {
    if (name === 'constructor') continue;
    t.log(name, descriptorSummary(MessagePort.prototype, name));
  }
  t.log('constructor', descriptorSummary(MessagePort.prototype, 'constructor')[0]);
});

scenario('MessagePort static own property names', [5], (t) => {
  const { MessagePort } = t.impl;
  t.log('names', Object.getOwnPropertyNames(MessagePort).sort());
  t.log('prototype descriptor', descriptorSummary(MessagePort, 'prototype'));
});

scenario('methods called on a non-port this', [5], (t) => {
  const { MessagePort } = t.impl;
  const P = MessagePort.prototype;
  t.logTry('postMessage.call({}, 1)', () => P.postMessage.call({}, 1));
  t.logTry('start.call({})', () => P.start.call({}));
  t.logTry('ref.call({})', () => P.ref.call({}));
  t.logTry('unref.call({})', () => P.unref.call({}));
  t.logTry('hasRef.call({})', () => P.hasRef.call({}));
  t.logTry('close.call({})', () => P.close.call({}));
  t.logTry('onmessage getter on prototype', () => P.onmessage);
  t.logTry('util.inspect(MessagePort.prototype)', () => util.inspect(P));
});

scenario('Object.prototype.toString and Symbol.toStringTag', [6], (t) => {
  const { port1 } = t.channel();
  t.log('toString', Object.prototype.toString.call(port1));
  t.log('String(port)', t.try(() => String(port1)));
  t.log('template', t.try(() => `${port1}`));
});

scenario('util.inspect: fresh, refed, unrefed, closed, own props', [6, 40], async (t) => {
  const { port1, port2 } = t.channel();
  t.raw('fresh', util.inspect(port1));
  port1.ref();
  t.raw('after ref()', util.inspect(port1));
  port1.unref();
  t.raw('after unref()', util.inspect(port1));
  port1.on('message', () => {});
  t.raw('with message listener', util.inspect(port1));
  port1.foo = 1;
  port1.bar = { x: [1, 2] };
  t.raw('with own enumerable props', util.inspect(port1));
  Object.defineProperty(port1, 'hidden', { value: 1, enumerable: false });
  t.raw('with own non-enumerable prop', util.inspect(port1));
  port1.close();
  t.raw('right after close()', util.inspect(port1));
  await t.turns();
  t.raw('after close event', util.inspect(port1));
  t.raw('peer after close event', util.inspect(port2));
  t.raw('depth 0', util.inspect({ p: port2 }, { depth: 0 }));
  t.raw('in array', util.inspect([port2]));
});

scenario('util.inspect of a transferred-away port', [6, 60], async (t) => {
  const { port1 } = t.channel();
  const { port1: a } = t.channel('a', 'b');
  a.postMessage(null, [port1]);
  t.raw('right after transfer', util.inspect(port1));
  await t.turns();
  t.raw('after its close event', util.inspect(port1));
});

scenario('util.inspect options: showHidden, colors, compact', [6], (t) => {
  const { port1 } = t.channel();
  t.raw('colors', util.inspect(port1, { colors: true }));
  t.raw('compact false', util.inspect(port1, { compact: false }));
  t.log('format %o', typeof util.format('%o', port1));
  t.raw('format %s', util.format('%s', port1));
  t.log('format %j', t.try(() => util.format('%j', port1)));
  t.log('JSON.stringify', t.try(() => JSON.stringify(port1)));
});

scenario.isolated('async_hooks init: type MESSAGEPORT, resource is the port, port1 first', [7], (t) => {
  const async_hooks = require('node:async_hooks');
  const inits = [];
  const hook = async_hooks
    .createHook({
      init(id, type, triggerId, resource) {
        if (type === 'MESSAGEPORT') {
          let inspected;
          try {
            inspected = util.inspect(resource);
          } catch (e) {
            inspected = `inspect threw ${e && e.message}`;
          }
          inits.push({ id, resource, inspected, isPort: resource instanceof t.impl.MessagePort });
        }
      },
    })
    .enable();
  const { port1, port2 } = new t.impl.MessageChannel();
  hook.disable();
  t.log('init count', inits.length);
  t.log('first is port1', inits[0] && inits[0].resource === port1);
  t.log('second is port2', inits[1] && inits[1].resource === port2);
  t.log('instanceof MessagePort in init', inits.map((i) => i.isPort));
  t.log('inspect inside init', inits.map((i) => i.inspected));
  t.log('ids increase', inits.length === 2 && inits[1].id > inits[0].id);
  port1.close();
});

scenario.isolated('async_hooks: a received port gets its own MESSAGEPORT init', [7, 55], (t) => {
  const async_hooks = require('node:async_hooks');
  const types = [];
  let received = null;
  const hook = async_hooks.createHook({
    init(id, type, triggerId, resource) {
      if (type === 'MESSAGEPORT') types.push(resource);
    },
  });
  const { port1, port2 } = new t.impl.MessageChannel();
  const { port1: x, port2: y } = new t.impl.MessageChannel();
  hook.enable();
  port2.once('message', (m) => {
    received = m;
    hook.disable();
    t.log('inits while receiving', types.length);
    t.log('resource is the received port', types[0] === received);
    t.log('resource is not the sent port', types[0] !== x);
    received.close();
    y.close();
    port1.close();
  });
  port1.postMessage(x, [x]);
});

scenario.isolated('async_hooks: message listener runs in the port async context', [7, 57], (t) => {
  const async_hooks = require('node:async_hooks');
  const initIds = new Map();
  const hook = async_hooks.createHook({
    init(id, type, triggerId, resource) {
      if (type === 'MESSAGEPORT') initIds.set(resource, id);
    },
  });
  hook.enable();
  const { port1, port2 } = new t.impl.MessageChannel();
  hook.disable();
  port2.on('message', (m) => {
    t.log('message', m);
    t.log('executionAsyncId is port2 id', async_hooks.executionAsyncId() === initIds.get(port2));
    t.log('executionAsyncResource is port2', async_hooks.executionAsyncResource() === port2);
    port2.close();
  });
  port1.postMessage('hi');
});

scenario.isolated('AsyncLocalStorage context inside message listeners', [7], (t) => {
  const { AsyncLocalStorage } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  let ch;
  als.run('created', () => {
    ch = new t.impl.MessageChannel();
  });
  als.run('listening', () => {
    ch.port2.on('message', (m) => {
      t.log('store in listener', m, als.getStore() === undefined ? '<undefined>' : als.getStore());
      if (m === 2) ch.port2.close();
    });
  });
  als.run('posting', () => {
    ch.port1.postMessage(1);
    ch.port1.postMessage(2);
  });
});
