'use strict';
// NODE_SEMANTICS.md section 6: starting, listeners and event-loop liveness
// (start, ref, unref, hasRef), onmessage attributes, NodeEventTarget methods.
// Whether the process stays alive is observed in isolated child processes:
// an unref'd probe timer logs 'still alive' (and exits) only if something
// else keeps the loop alive.
const scenario = require('../harness/define')(module);

function probe(t, ms = 300) {
  setTimeout(() => {
    t.log(`still alive after ${ms} ms`);
    process.exit(0);
  }, ms).unref();
}

const ADDERS = {
  on: (p, fn) => p.on('message', fn),
  once: (p, fn) => p.once('message', fn),
  addListener: (p, fn) => p.addListener('message', fn),
  addEventListener: (p, fn) => p.addEventListener('message', (e) => fn(e.data)),
  'addEventListener once': (p, fn) => p.addEventListener('message', (e) => fn(e.data), { once: true }),
  'onmessage =': (p, fn) => {
    p.onmessage = (e) => fn(e.data);
  },
};

scenario('a new port is not started: messages queue until a listener is added', [36], async (t) => {
  const { port1, port2 } = t.channel();
  const returns = new Set();
  for (let i = 0; i < 200; i++) returns.add(port1.postMessage(i));
  t.log('postMessage return values', [...returns]);
  await t.turns(3);
  t.log('hasRef before listener', port2.hasRef());
  const got = [];
  port2.on('message', (v) => got.push(v));
  await t.turns(3);
  t.log('delivered count, first, last, in order', got.length, got[0], got[got.length - 1], got.every((v, i) => v === i));
});

for (const [method, add] of Object.entries(ADDERS)) {
  scenario(`the first message listener (${method}) refs and starts the port`, [37], async (t) => {
    const { port1, port2 } = t.channel();
    port1.postMessage('queued before');
    t.log('hasRef before', port2.hasRef());
    add(port2, (v) => t.log('received', v));
    t.log('hasRef after adding', port2.hasRef());
    t.log('listenerCount(message)', port2.listenerCount('message'));
    port1.postMessage('after');
    await t.turns();
    t.log('hasRef after delivery', port2.hasRef());
  });
}

scenario("'close' and 'messageerror' listeners neither start nor ref", [37], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('close', () => t.log('close'));
  port2.on('messageerror', () => t.log('messageerror'));
  port2.addEventListener('messageerror', () => t.log('messageerror (ET)'));
  port2.onmessageerror = () => t.log('onmessageerror');
  port2.addEventListener('close', () => t.log('close (ET)'));
  t.log('hasRef', port2.hasRef());
  port1.postMessage('x');
  await t.turns();
  t.log('still queued', t.impl.receiveMessageOnPort(port2));
  t.log('other listener types', port2.on('foo', () => {}) === port2, port2.hasRef());
});

const REMOVERS = {
  off: (p, fn) => {
    p.on('message', fn);
    return () => p.off('message', fn);
  },
  removeListener: (p, fn) => {
    p.on('message', fn);
    return () => p.removeListener('message', fn);
  },
  removeEventListener: (p, fn) => {
    p.addEventListener('message', fn);
    return () => p.removeEventListener('message', fn);
  },
  'onmessage = null': (p, fn) => {
    p.onmessage = fn;
    return () => {
      p.onmessage = null;
    };
  },
  "onmessage = 'str'": (p, fn) => {
    p.onmessage = fn;
    return () => {
      p.onmessage = 'str';
    };
  },
  'onmessage = {}': (p, fn) => {
    p.onmessage = fn;
    return () => {
      p.onmessage = {};
    };
  },
  'AbortSignal of addEventListener': (p, fn) => {
    const ac = new AbortController();
    p.addEventListener('message', fn, { signal: ac.signal });
    return () => ac.abort();
  },
};

for (const [method, setup] of Object.entries(REMOVERS)) {
  scenario(`removing the last message listener (${method}) stops and unrefs`, [38], async (t) => {
    const { port1, port2 } = t.channel();
    const remove = setup(port2, () => t.log('listener called (should not be)'));
    t.log('hasRef with listener', port2.hasRef());
    remove();
    t.log('hasRef after removal', port2.hasRef(), 'listenerCount', port2.listenerCount('message'));
    port1.postMessage('while stopped');
    await t.turns();
    port2.on('message', (v) => t.log('new listener got', v));
    await t.turns();
  });
}

scenario('a once listener that fired stops and unrefs the port', [38], async (t) => {
  const { port1, port2 } = t.channel();
  port2.once('message', (v) => t.log('once got', v));
  port1.postMessage('first');
  port1.postMessage('second');
  await t.turns();
  t.log('hasRef after', port2.hasRef());
  t.log('second still queued', t.impl.receiveMessageOnPort(port2));
});

scenario('a once listener firing with another listener present keeps the port started', [38], async (t) => {
  const { port1, port2 } = t.channel();
  port2.once('message', (v) => t.log('once got', v));
  port2.on('message', (v) => t.log('on got', v));
  port1.postMessage(1);
  port1.postMessage(2);
  await t.turns();
  t.log('hasRef', port2.hasRef());
});

scenario('removing one of two listeners keeps the port started and ref\'d', [38], async (t) => {
  const { port1, port2 } = t.channel();
  const a = (v) => t.log('a', v);
  port2.on('message', a);
  port2.addEventListener('message', (e) => t.log('b', e.data));
  port2.off('message', a);
  t.log('hasRef', port2.hasRef());
  port1.postMessage('x');
  await t.turns();
});

scenario('removeAllListeners() bypasses stop/unref (quirk)', [38, 42], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => t.log('removed listener called (should not be)', v));
  t.log('eventNames before', port2.eventNames());
  t.log('removeAllListeners returns the port', port2.removeAllListeners() === port2);
  t.log('hasRef after removeAllListeners()', port2.hasRef());
  t.log('eventNames after', port2.eventNames());
  port1.postMessage('dropped?');
  await t.turns();
  port2.on('message', (v) => t.log('re-added listener got', v));
  t.log('hasRef after re-adding', port2.hasRef());
  port1.postMessage('after re-adding');
  await t.turns();
  port2.removeAllListeners('message');
  t.log('hasRef after removeAllListeners(message)', port2.hasRef());
});

scenario('adding the same listener twice counts once; removing it once stops', [37, 38], async (t) => {
  const { port1, port2 } = t.channel();
  const fn = (e) => t.log('got', e.data);
  port2.addEventListener('message', fn);
  port2.addEventListener('message', fn);
  t.log('listenerCount', port2.listenerCount('message'));
  port2.removeEventListener('message', fn);
  t.log('hasRef after one removal', port2.hasRef());
  const g = (v) => t.log('node-style got', v);
  port2.on('message', g);
  port2.on('message', g);
  t.log('node-style listenerCount', port2.listenerCount('message'));
  port1.postMessage('x');
  await t.turns();
  port2.off('message', g);
  t.log('hasRef after one off()', port2.hasRef(), port2.listenerCount('message'));
});

scenario('start(): asynchronous, does not ref, messages without listeners are dropped', [39], async (t) => {
  const { port1, port2 } = t.channel();
  port1.postMessage('a');
  port1.postMessage('b');
  t.log('start() returns', port2.start());
  t.log('hasRef after start()', port2.hasRef());
  t.log('sync after start(): receiveMessageOnPort', t.impl.receiveMessageOnPort(port2));
  await t.turns();
  t.log('after turns: receiveMessageOnPort', t.impl.receiveMessageOnPort(port2));
  port2.on('message', (v) => t.log('listener got', v));
  port1.postMessage('c');
  await t.turns();
});

scenario('start() then a listener in the same tick receives the queued messages', [39], async (t) => {
  const { port1, port2 } = t.channel();
  port1.postMessage('a');
  port2.start();
  port2.start();
  port2.on('message', (v) => t.log('got', v));
  t.log('sync');
  await t.turns();
});

scenario('start() delivers to an EventTarget listener added without starting... and to onmessage', [37, 39, 69], async (t) => {
  const { port1, port2 } = t.channel();
  port1.postMessage('x');
  port2.addEventListener('message', (e) => t.log('addEventListener got', e.data));
  await t.turns();
  t.log('(Node starts on addEventListener; browsers would need start())');
});

scenario('start(), ref(), unref() never throw, even on closed and transferred ports', [39, 40], async (t) => {
  const { port1, port2 } = t.channel();
  port1.close();
  for (const m of ['start', 'ref', 'unref', 'hasRef']) t.logTry(`closed port1.${m}()`, () => port1[m]());
  await t.turns();
  for (const m of ['start', 'ref', 'unref', 'hasRef']) t.logTry(`after close event port1.${m}()`, () => port1[m]());
  for (const m of ['start', 'ref', 'unref', 'hasRef']) t.logTry(`peer-closed port2.${m}()`, () => port2[m]());
  const a = t.channel('a1', 'a2');
  const b = t.channel('b1', 'b2');
  b.port1.postMessage(null, [a.port1]);
  for (const m of ['start', 'ref', 'unref', 'hasRef']) t.logTry(`transferred a1.${m}()`, () => a.port1[m]());
  await t.turns();
});

scenario('hasRef() transitions; ref()/unref() return undefined', [40], async (t) => {
  const { port1, port2 } = t.channel();
  t.log('new', port2.hasRef());
  t.log('ref() returns', port2.ref());
  t.log('after ref', port2.hasRef());
  t.log('ref() twice', port2.ref(), port2.hasRef());
  t.log('unref() returns', port2.unref());
  t.log('after unref', port2.hasRef());
  port2.on('message', (v) => t.log('got', v));
  t.log('with listener', port2.hasRef());
  port2.unref();
  t.log('listener + unref()', port2.hasRef());
  port1.postMessage('delivered while unref\'d');
  await t.turns();
  port2.ref();
  t.log('ref() again', port2.hasRef());
  port2.close();
  t.log('right after close()', port2.hasRef());
  port2.on('close', () => t.log('close event: hasRef inside', port2.hasRef()));
  await t.turns();
  t.log('after close event', port2.hasRef());
  t.log('peer after close event', port1.hasRef());
});

scenario('hasRef() of a received port and of the transferred-away original', [40, 60], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port1.on('message', () => {});
  t.log('q1 hasRef with listener', q.port1.hasRef());
  const got = t.next(port2);
  port1.postMessage(q.port1, [q.port1]);
  t.log('q1 hasRef right after transfer', q.port1.hasRef());
  const r = await got;
  t.track(r, 'received q1');
  t.log('received hasRef', r.hasRef(), 'listenerCount', r.listenerCount('message'));
  t.log('q1 hasRef later', q.port1.hasRef());
});

scenario('onmessage / onmessageerror attribute semantics', [41], async (t) => {
  const { port1, port2 } = t.channel();
  t.log('initial', port2.onmessage, port2.onmessageerror);
  const f = () => t.log('f called');
  const g = () => t.log('g called');
  port2.onmessage = f;
  t.log('reads back the function', port2.onmessage === f);
  port2.onmessage = g;
  t.log('replaced: reads g, listenerCount', port2.onmessage === g, port2.listenerCount('message'));
  port1.postMessage(1);
  await t.turns();
  for (const v of ['str', 1, {}, { handleEvent() {} }, undefined, null]) {
    port2.onmessage = g;
    port2.onmessage = v;
    t.log(`after onmessage = ${typeof v === 'object' && v !== null ? JSON.stringify(Object.keys(v)) : String(v)}`, port2.onmessage, port2.listenerCount('message'), port2.hasRef());
  }
  port2.onmessageerror = f;
  t.log('onmessageerror set', port2.onmessageerror === f, port2.hasRef());
  port2.onmessageerror = null;
  t.log('onmessageerror null', port2.onmessageerror);
  t.log('own property created?', Object.prototype.hasOwnProperty.call(port2, 'onmessage'));
});

scenario('NodeEventTarget methods: return values, eventNames, listenerCount, maxListeners', [42], (t) => {
  const { port2 } = t.channel();
  const fn = () => {};
  t.log('fresh eventNames', port2.eventNames());
  t.log('on returns port', port2.on('message', fn) === port2);
  t.log('once returns port', port2.once('foo', fn) === port2);
  t.log('addListener returns port', port2.addListener('bar', fn) === port2);
  t.log('eventNames', port2.eventNames());
  t.log('listenerCount', port2.listenerCount('message'), port2.listenerCount('foo'), port2.listenerCount('none'));
  t.log('off returns port', port2.off('bar', fn) === port2);
  t.log('removeListener returns port', port2.removeListener('message', fn) === port2);
  t.log('emit returns', port2.emit('foo', 1), port2.emit('foo', 1));
  t.log('getMaxListeners default', port2.getMaxListeners());
  t.log('setMaxListeners returns', port2.setMaxListeners(3));
  t.log('getMaxListeners after', port2.getMaxListeners());
  t.log('missing methods', ['prependListener', 'prependOnceListener', 'rawListeners', 'listeners'].map((m) => typeof port2[m]));
  t.logTry('on with a non-function', () => port2.on('message', 'nope'));
  t.logTry('addEventListener with a non-function', () => port2.addEventListener('message', 'nope'));
  t.logTry('addEventListener with null', () => port2.addEventListener('message', null));
  t.log('hasRef after invalid adds', port2.hasRef(), port2.listenerCount('message'));
});

scenario('MaxListenersExceededWarning for message listeners', [42], async (t) => {
  const { port2 } = t.channel();
  for (let i = 0; i < 11; i++) port2.on('message', () => {});
  await t.turns(1);
  const { port1: p } = t.channel('p1', 'p2');
  p.setMaxListeners(2);
  for (let i = 0; i < 3; i++) p.addEventListener('close', () => {});
  await t.turns(1);
});

scenario('unref() does not stop delivery while the loop is alive for another reason', [40], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => t.log('got', v));
  port2.unref();
  port1.postMessage(1);
  await t.wait(20);
  port1.postMessage(2);
  await t.wait(20);
});

scenario('removing the listener inside its own handler stops the rest of the batch', [38, 46], async (t) => {
  const { port1, port2 } = t.channel();
  const f = (v) => {
    t.log('got', v);
    if (v === 1) {
      port2.off('message', f);
      t.log('removed inside the handler; hasRef', port2.hasRef());
    }
  };
  port2.on('message', f);
  for (let i = 1; i <= 4; i++) port1.postMessage(i);
  await t.turns();
  t.log('re-adding');
  port2.on('message', (v) => t.log('again', v));
  await t.turns();
});

scenario('a listener added inside a handler sees the following messages of the batch', [37, 57], async (t) => {
  const { port1, port2 } = t.channel();
  port2.once('message', (v) => {
    t.log('first listener', v);
    port2.on('message', (w) => t.log('added inside the handler', w));
  });
  port2.on('message', (v) => t.log('second listener', v));
  for (let i = 1; i <= 3; i++) port1.postMessage(i);
  await t.turns();
});

scenario('start() called inside a handler of another port', [39], async (t) => {
  const a = t.channel('a1', 'a2');
  const b = t.channel('b1', 'b2');
  b.port1.postMessage('queued on b2');
  a.port2.on('message', () => {
    b.port2.start();
    b.port2.on('message', (v) => t.log('b2 got', v));
    t.log('started b2 inside a2 handler');
  });
  a.port1.postMessage('go');
  await t.turns();
});

scenario('a worker whose port has a listener stays alive until the parent closes the other end', [40, 49], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.agent(({ port }) => {
    port.on('message', (v) => port.postMessage(`echo ${v}`));
    port.on('close', () => {
      // nothing keeps the worker alive any more: it exits by itself
    });
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  port1.postMessage('hi');
  t.log('reply', await t.next(port1, 5000));
  await t.wait(100);
  t.log('worker still running after 100 ms', w.threadId > 0 && !(await Promise.race([exited.then(() => true), t.wait(1).then(() => false)])));
  port1.close();
  t.log('exit code after the parent closed its end', (await exited)[0]);
});

scenario('a worker with an unref\'d listening port exits by itself', [40, 49], async (t) => {
  const { port1, port2 } = t.channel();
  const closed = t.when(port1, 'close', 5000);
  const w = t.agent(({ port }) => {
    port.on('message', () => {});
    port.unref();
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  t.log('exit code', (await exited)[0]);
  await closed;
  t.log('port1 close');
});

// ---- isolated: does the process stay alive? ----

scenario.isolated('a fresh channel does not keep the process alive', [40], (t) => {
  probe(t);
  new t.impl.MessageChannel(); // eslint-disable-line no-new
});

for (const [method, add] of Object.entries(ADDERS)) {
  scenario.isolated(`a message listener (${method}) keeps the process alive`, [37, 40], (t) => {
    probe(t);
    const { port2 } = new t.impl.MessageChannel();
    add(port2, (v) => t.log('got', v));
  });
}

scenario.isolated('a once listener keeps the process alive until its message', [37, 38], (t) => {
  probe(t, 500);
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.once('message', (v) => t.log('got', v));
  setTimeout(() => port1.postMessage('late'), 50);
});

scenario.isolated("only 'close' and 'messageerror' listeners: the process exits", [37], (t) => {
  probe(t);
  const { port2 } = new t.impl.MessageChannel();
  port2.on('close', () => t.log('close'));
  port2.on('messageerror', () => t.log('messageerror'));
  port2.onmessageerror = () => {};
});

scenario.isolated('ref() without a listener keeps the process alive', [40], (t) => {
  probe(t);
  const { port1 } = new t.impl.MessageChannel();
  port1.ref();
});

scenario.isolated('a message listener then unref(): the process exits', [40], (t) => {
  probe(t);
  const { port2 } = new t.impl.MessageChannel();
  port2.on('message', () => {});
  port2.unref();
});

scenario.isolated('a message listener removed again: the process exits', [38, 40], (t) => {
  probe(t);
  const { port2 } = new t.impl.MessageChannel();
  const fn = () => {};
  port2.on('message', fn);
  port2.off('message', fn);
});

scenario.isolated('onmessage set then null: the process exits', [38, 41], (t) => {
  probe(t);
  const { port2 } = new t.impl.MessageChannel();
  port2.onmessage = () => {};
  port2.onmessage = null;
});

scenario.isolated('removeAllListeners() keeps the process alive (quirk)', [38], (t) => {
  probe(t);
  const { port2 } = new t.impl.MessageChannel();
  port2.on('message', () => {});
  port2.removeAllListeners();
});

scenario.isolated('close() of a port with a listener: exits after the close event', [40, 43], (t) => {
  probe(t);
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.on('message', () => {});
  port2.on('close', () => t.log('port2 close'));
  port1.on('close', () => t.log('port1 close'));
  port2.close();
});

scenario.isolated('the peer closes: a listening port closes too and the process exits', [40, 44], (t) => {
  probe(t);
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.on('message', (v) => t.log('got', v));
  port2.on('close', () => t.log('port2 close'));
  port1.postMessage('bye');
  port1.close();
});

scenario.isolated('two ref\'d ports: unref of one keeps the other alive', [40], (t) => {
  probe(t);
  const a = new t.impl.MessageChannel();
  const b = new t.impl.MessageChannel();
  a.port2.on('message', () => {});
  b.port2.on('message', () => {});
  a.port2.unref();
});

scenario.isolated('a listening port transferred away: the process exits', [40, 60], (t) => {
  probe(t);
  const a = new t.impl.MessageChannel();
  const b = new t.impl.MessageChannel();
  a.port2.on('message', () => {});
  b.port1.postMessage(a.port2, [a.port2]);
});

scenario.isolated('a received port with a listener keeps the process alive', [37, 60], (t) => {
  probe(t);
  const a = new t.impl.MessageChannel();
  const b = new t.impl.MessageChannel();
  b.port2.once('message', (p) => {
    t.log('received a port', p instanceof t.impl.MessagePort, p.hasRef());
    p.on('message', () => {});
    t.log('after adding a listener', p.hasRef());
  });
  b.port1.postMessage(a.port2, [a.port2]);
});

scenario.isolated('a listening port stays alive until closed from a timer', [40, 43], (t) => {
  probe(t, 1000);
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.on('message', (v) => t.log('got', v));
  port2.on('close', () => t.log('close'));
  setTimeout(() => port1.postMessage('ping'), 20);
  setTimeout(() => port2.close(), 100);
});

scenario.isolated('messages queued for an unstarted unref\'d port do not keep the process alive', [36, 40], (t) => {
  probe(t);
  const { port1 } = new t.impl.MessageChannel();
  for (let i = 0; i < 10; i++) port1.postMessage(i);
});

scenario.isolated('beforeExit: a message listener added in beforeExit keeps the loop going', [37, 40], (t) => {
  probe(t, 500);
  const { port1, port2 } = new t.impl.MessageChannel();
  let once = false;
  process.on('beforeExit', () => {
    t.log('beforeExit');
    if (once) return;
    once = true;
    port2.once('message', (v) => t.log('got in second round', v));
    port1.postMessage('from beforeExit');
  });
});

scenario.isolated('a message listener added to a closed port does not keep the process alive', [40, 43], async (t) => {
  probe(t);
  const { port1 } = new t.impl.MessageChannel();
  port1.close();
  await new Promise((r) => setTimeout(r, 10));
  port1.on('message', () => {});
  t.log('hasRef', port1.hasRef());
});

scenario.isolated('a message listener added to a transferred-away port does not keep the process alive', [40, 60], (t) => {
  probe(t);
  const a = new t.impl.MessageChannel();
  const b = new t.impl.MessageChannel();
  b.port1.postMessage(null, [a.port1]);
  a.port1.on('message', () => {});
  t.log('hasRef right after', a.port1.hasRef());
});
