'use strict';
// NODE_SEMANTICS.md section 12: BroadcastChannel (ringport's: lib/broadcast.ts).
const util = require('node:util');
const scenario = require('../harness/define')(module);

function BC(t) {
  if (typeof t.impl.BroadcastChannel !== 'function') throw new Error('no BroadcastChannel in this implementation');
  return t.impl.BroadcastChannel;
}

scenario('constructor: name required and converted to a string', [66], (t) => {
  const B = BC(t);
  t.logTry('no argument', () => new B());
  const a = new B(123);
  t.log('name', a.name);
  t.logTry('Symbol name', () => new B(Symbol('s')));
  t.logTry('without new', () => B('x'));
  t.log('instanceof EventTarget', a instanceof EventTarget, 'has on()', typeof a.on);
  t.log('prototype own names', Object.getOwnPropertyNames(Object.getPrototypeOf(a)).sort());
  a.close();
});

scenario('messages go to every other open channel with the same name, never back', [67], async (t) => {
  const B = BC(t);
  const a = new B('conf-bc');
  const b = new B('conf-bc');
  const c = new B('conf-bc');
  const other = new B('conf-other');
  for (const [name, ch] of [['a', a], ['b', b], ['c', c], ['other', other]]) {
    ch.onmessage = (e) => t.log(`${name} got`, e.data, e.constructor.name);
  }
  a.postMessage('from a');
  await t.turns();
  for (const ch of [a, b, c, other]) ch.close();
});

scenario('postMessage validation: no argument, closed channel, transfer list ignored, ports in value', [67], async (t) => {
  const B = BC(t);
  const a = new B('conf-bc2');
  const b = new B('conf-bc2');
  b.onmessage = (e) => t.log('b got', e.data);
  t.logTry('postMessage()', () => a.postMessage());
  const ab = new ArrayBuffer(2);
  t.logTry('second argument ignored', () => a.postMessage(ab, [ab]));
  t.log('ab not detached', ab.byteLength);
  const { port1 } = t.channel();
  t.logTry('port inside the value', () => a.postMessage({ p: port1 }));
  a.close();
  t.logTry('after close()', () => a.postMessage('x'));
  t.logTry('close() again', () => a.close());
  await t.turns();
  b.close();
});

scenario('SharedArrayBuffers are shared through a BroadcastChannel', [67, 27], async (t) => {
  const B = BC(t);
  const a = new B('conf-bc3');
  const b = new B('conf-bc3');
  const sab = new SharedArrayBuffer(4);
  const got = new Promise((resolve) => {
    b.onmessage = (e) => resolve(e.data);
  });
  a.postMessage(sab);
  const m = await got;
  new Uint8Array(m)[0] = 5;
  t.log('sender sees the write', new Uint8Array(sab)[0]);
  a.close();
  b.close();
});

scenario('ref/unref return this; inspect; brand checks', [68], (t) => {
  const B = BC(t);
  const a = new B('conf-bc4');
  t.log('ref() returns this', a.ref() === a, 'unref() returns this', a.unref() === a);
  t.log('inspect', util.inspect(a));
  a.close();
  t.log('inspect closed', util.inspect(a));
  t.logTry('postMessage on a non-channel', () => B.prototype.postMessage.call({}, 1));
  t.logTry('close on a non-channel', () => B.prototype.close.call({}));
});

scenario.isolated('a BroadcastChannel keeps the process alive as soon as it is constructed', [68], (t) => {
  setTimeout(() => {
    t.log('still alive');
    process.exit(0);
  }, 300).unref();
  const B = BC(t);
  new B('conf-alive'); // eslint-disable-line no-new
});

scenario.isolated('an unref\'d BroadcastChannel does not keep the process alive', [68], (t) => {
  setTimeout(() => {
    t.log('still alive');
    process.exit(0);
  }, 300).unref();
  const B = BC(t);
  new B('conf-alive').unref();
});

scenario('a BroadcastChannel in a worker receives from the main thread', [67], async (t) => {
  const B = BC(t);
  const main = new B('conf-bc-worker');
  const w = t.agent(({ impl, wt }) => {
    const bc = new impl.BroadcastChannel('conf-bc-worker');
    bc.onmessage = (e) => {
      wt.parentPort.postMessage(`worker got ${e.data}`);
      bc.close();
    };
    wt.parentPort.postMessage('ready');
  });
  await t.when(w, 'message', 5000);
  main.postMessage('hello');
  t.log('reply', (await t.when(w, 'message', 5000))[0]);
  main.close();
});
