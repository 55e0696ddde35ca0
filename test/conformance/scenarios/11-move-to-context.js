'use strict';
// NODE_SEMANTICS.md section 11: moveMessagePortToContext(port, contextifiedSandbox).
const vm = require('node:vm');
const scenario = require('../harness/define')(module);

scenario('the moved port: a new object in the context, not an EventTarget, original detached', [63], async (t) => {
  const ctx = vm.createContext({});
  const { port1, port2 } = t.channel();
  const moved = t.impl.moveMessagePortToContext(port2, ctx);
  t.log('!== original', moved !== port2);
  t.log('original hasRef, postMessage', port2.hasRef(), port2.postMessage('x'));
  t.log('instanceof EventTarget (main realm)', moved instanceof EventTarget);
  t.log('prototype own names', Object.getOwnPropertyNames(Object.getPrototypeOf(moved)).sort());
  t.log('onmessage, onmessageerror initially', moved.onmessage, moved.onmessageerror);
  t.log('has on()', typeof moved.on);
  t.log('Object.keys', Object.keys(moved));
  moved.onmessage = function onmessage(e) {
    t.log('delivery', {
      keys: Object.keys(e),
      data: e.data,
      targetIsMoved: e.target === moved,
      type: e.type,
      portsLength: e.ports.length,
      thisIsMoved: this === moved,
    });
  };
  port1.postMessage('before start');
  await t.turns();
  t.log('(nothing before start())');
  moved.start();
  await t.turns();
  port1.close();
  await t.turns();
});

scenario('moveMessagePortToContext argument errors', [64], (t) => {
  const ctx = vm.createContext({});
  const { port1 } = t.channel();
  t.logTry('non-port', () => t.impl.moveMessagePortToContext({}, ctx));
  t.logTry('non-contextified object', () => t.impl.moveMessagePortToContext(port1, {}));
  const closed = t.channel('c1', 'c2').port1;
  closed.close();
  t.logTry('closed port, valid context', () => t.impl.moveMessagePortToContext(closed, ctx));
  t.logTry('closed port, invalid context (closed check first)', () => t.impl.moveMessagePortToContext(closed, {}));
});

scenario('errors thrown by the moved port are DOMExceptions of that context', [63], (t) => {
  const ctx = vm.createContext({});
  const { port2 } = t.channel();
  const moved = t.impl.moveMessagePortToContext(port2, ctx);
  try {
    moved.postMessage(() => {});
  } catch (e) {
    t.log('name, code', e.name, e.code);
    t.log('instanceof main DOMException', e instanceof DOMException);
    t.log('constructor name', e.constructor.name);
  }
});

scenario('host objects cannot be deserialized in the moved context: onmessageerror, later messages arrive', [65, 32], async (t) => {
  const crypto = require('node:crypto');
  const ctx = vm.createContext({});
  const { port1, port2 } = t.channel();
  const moved = t.impl.moveMessagePortToContext(port2, ctx);
  moved.onmessage = (e) => t.log('message', e.data);
  moved.onmessageerror = (e) => t.log('messageerror', e.data && e.data.code, e.data && e.data.message);
  moved.start();
  port1.postMessage(crypto.createSecretKey(Buffer.from('k')));
  port1.postMessage('after');
  await t.turns();
  port1.close();
  await t.turns();
});
