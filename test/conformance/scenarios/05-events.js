'use strict';
// NODE_SEMANTICS.md section 5: 'message' / 'messageerror' / 'close' events,
// MessageEvent shape and constructor, Node-style vs EventTarget listeners,
// listener exceptions, emit().
const events = require('node:events');
const { protoChain } = require('../harness/describe');
const scenario = require('../harness/define')(module);

/** A JSON-able picture of a MessageEvent as seen from inside a listener. */
function eventPicture(t, e, port, self) {
  const read = (k) => {
    try {
      return t.d(e[k]);
    } catch (err) {
      return { threw: t.e(err) };
    }
  };
  const ports = (() => {
    try {
      return e.ports;
    } catch {
      return undefined;
    }
  })();
  return {
    constructorName: e.constructor && e.constructor.name,
    protoChain: protoChain(e),
    instanceofGlobalMessageEvent: e instanceof MessageEvent,
    instanceofImplMessageEvent: e instanceof t.impl.MessageEvent,
    instanceofEvent: e instanceof Event,
    toStringTag: Object.prototype.toString.call(e),
    type: read('type'),
    data: read('data'),
    origin: read('origin'),
    lastEventId: read('lastEventId'),
    source: read('source'),
    targetIsPort: e.target === port,
    currentTargetIsPort: e.currentTarget === port,
    srcElementIsPort: e.srcElement === port,
    thisIsPort: self === port,
    portsIsArray: Array.isArray(ports),
    portsFrozen: Array.isArray(ports) ? Object.isFrozen(ports) : null,
    portsLength: Array.isArray(ports) ? ports.length : null,
    portsAreMessagePorts: Array.isArray(ports) ? ports.map((p) => p instanceof t.impl.MessagePort) : null,
    portsProto: Array.isArray(ports) ? protoChain(ports) : null,
    bubbles: read('bubbles'),
    cancelable: read('cancelable'),
    composed: read('composed'),
    isTrusted: read('isTrusted'),
    defaultPrevented: read('defaultPrevented'),
    eventPhase: read('eventPhase'),
    timeStampType: typeof e.timeStamp,
    returnValue: read('returnValue'),
    cancelBubble: read('cancelBubble'),
    ownNames: Object.getOwnPropertyNames(e).sort(),
    keys: Object.keys(e),
    protoOwnNames: Object.getOwnPropertyNames(Object.getPrototypeOf(e)).sort(),
  };
}

scenario('addEventListener receives a MessageEvent with the documented shape', [29, 61], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  const r = t.channel('r1', 'r2');
  const ab = new ArrayBuffer(2);
  let captured;
  port2.addEventListener('message', function listener(e) {
    captured = e;
    t.raw('in listener', eventPicture(t, e, port2, this));
    t.log('ports[0] === data.r', e.ports[0] === e.data.r, 'ports[1] === data.q', e.ports[1] === e.data.q);
    t.logTry('ports.push (mutable)', () => e.ports.push('x'));
    t.track(e.ports[1], 'received q1');
    t.track(e.ports[0], 'received r1');
  });
  port1.postMessage({ q: q.port1, r: r.port1, ab }, [ab, r.port1, q.port1]);
  await t.turns();
  t.log('after dispatch: eventPhase, currentTarget null', captured && captured.eventPhase, captured && captured.currentTarget === null);
  t.log('after dispatch: data still readable', captured && captured.data && typeof captured.data);
  t.log('order of ports follows the transfer list', captured && captured.ports[0] === captured.data.r);
});

scenario('onmessage receives a MessageEvent; ports is [] without ports', [29, 41], async (t) => {
  const { port1, port2 } = t.channel();
  const ab = new ArrayBuffer(1);
  port2.onmessage = function handler(e) {
    t.raw('picture', eventPicture(t, e, port2, this));
    port2.onmessage = null;
  };
  port1.postMessage({ ab }, [ab]);
  await t.turns();
});

scenario('event listener objects with handleEvent', [29], async (t) => {
  const { port1, port2 } = t.channel();
  const obj = {
    handleEvent(e) {
      t.log('handleEvent this === obj', this === obj, 'type', e.type, 'data', e.data);
    },
  };
  port2.addEventListener('message', obj);
  port1.postMessage('x');
  await t.turns();
  port2.removeEventListener('message', obj);
  t.log('hasRef after removal', port2.hasRef());
});

scenario('Node-style listeners (on, once, addListener) receive the value itself', [30], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', function onL(...args) {
    t.log('on: args', args.length, 'this is port', this === port2, 'arg', args[0]);
  });
  port2.once('message', function onceL(...args) {
    t.log('once: args', args.length, 'this is port', this === port2, 'arg', args[0]);
  });
  port2.addListener('message', function addL(v) {
    t.log('addListener: arg', v);
  });
  port1.postMessage({ a: 1 });
  port1.postMessage(undefined);
  port1.postMessage(null);
  await t.turns();
});

scenario('Node-style listener value when ports are transferred', [30, 61], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  port2.on('message', (v) => {
    t.log('value', v);
    t.log('value.p instanceof MessagePort', v.p instanceof t.impl.MessagePort);
    t.track(v.p, 'received q1');
  });
  port1.postMessage({ p: q.port1 }, [q.port1]);
  await t.turns();
});

scenario('events.once(port, "message") resolves to [value]', [30], async (t) => {
  const { port1, port2 } = t.channel();
  const p = events.once(port2, 'message');
  port1.postMessage({ hello: 'world' });
  const result = await p;
  t.log('result', result);
  t.log('listenerCount after', port2.listenerCount('message'), 'hasRef', port2.hasRef());
});

scenario('events.on(port, "message") async iterator yields values', [30], async (t) => {
  const { port1, port2 } = t.channel();
  const ac = new AbortController();
  port1.postMessage(1);
  port1.postMessage('two');
  port1.postMessage({ three: 3 });
  const seen = [];
  try {
    for await (const args of events.on(port2, 'message', { signal: ac.signal })) {
      seen.push(t.d(args));
      if (seen.length === 3) ac.abort();
    }
  } catch (e) {
    t.log('loop ended with', e.name);
  }
  t.raw('seen', seen);
  t.log('listenerCount after', port2.listenerCount('message'), 'hasRef', port2.hasRef());
});

scenario('events.once(port, "close") and events.once with an EventTarget-only event', [30, 33], async (t) => {
  const { port1, port2 } = t.channel();
  const p = events.once(port2, 'close');
  port1.close();
  const [e] = await p;
  t.log('close via events.once', e && e.constructor && e.constructor.name, e && e.type);
});

scenario('listener kinds are called in registration order', [29, 30, 41], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => t.log('A on', v));
  port2.addEventListener('message', (e) => t.log('B addEventListener', e.data));
  port2.onmessage = (e) => t.log('C onmessage', e.data);
  port2.once('message', (v) => t.log('D once', v));
  port2.addEventListener('message', (e) => t.log('E addEventListener once', e.data), { once: true });
  port2.onmessage = (e) => t.log('C2 onmessage replaced (keeps position)', e.data);
  port1.postMessage(1);
  port1.postMessage(2);
  await t.turns();
});

scenario('stopImmediatePropagation and preventDefault in a message listener', [29], async (t) => {
  const { port1, port2 } = t.channel();
  port2.addEventListener('message', (e) => {
    t.log('first', e.data);
    e.preventDefault();
    t.log('defaultPrevented (not cancelable)', e.defaultPrevented);
    if (e.data === 1) e.stopImmediatePropagation();
  });
  port2.on('message', (v) => t.log('second', v));
  port1.postMessage(1);
  port1.postMessage(2);
  await t.turns();
});

scenario('MessageEvent prototype accessors are brand-checked', [31], (t) => {
  const ME = t.impl.MessageEvent;
  for (const k of ['data', 'origin', 'lastEventId', 'source', 'ports']) {
    t.logTry(`Reflect.get(MessageEvent.prototype, '${k}', {})`, () => Reflect.get(ME.prototype, k, {}));
    t.logTry(`${k} on a plain Event`, () => Reflect.get(ME.prototype, k, new Event('x')));
  }
  t.logTry('MessageEvent.prototype.data', () => ME.prototype.data);
});

scenario('MessageEvent accessor descriptors (along the prototype chain)', [31], async (t) => {
  const { port1, port2 } = t.channel();
  const got = new Promise((resolve) => port2.addEventListener('message', resolve, { once: true }));
  port1.postMessage(0);
  const e = await got;
  for (const k of ['data', 'origin', 'lastEventId', 'source', 'ports']) {
    let p = Object.getPrototypeOf(e);
    let depth = 0;
    while (p && !Object.prototype.hasOwnProperty.call(p, k)) {
      p = Object.getPrototypeOf(p);
      depth++;
    }
    const d = p && Object.getOwnPropertyDescriptor(p, k);
    t.raw(k, d ? { enumerable: d.enumerable, configurable: d.configurable, getter: typeof d.get, setter: typeof d.set } : 'absent');
  }
  t.log('prototype own names', Object.getOwnPropertyNames(Object.getPrototypeOf(e)).sort());
});

scenario('new MessageEvent(type, init): defaults and conversions', [31], (t) => {
  const ME = t.impl.MessageEvent;
  const pick = (e) => ({
    type: e.type,
    data: t.d(e.data),
    origin: t.d(e.origin),
    lastEventId: t.d(e.lastEventId),
    source: t.d(e.source),
    ports: t.d(e.ports),
  });
  t.raw('defaults', pick(new ME('message')));
  t.raw('conversions', pick(new ME('x', { data: 0, origin: 123, lastEventId: { toString: () => 'obj' } })));
  t.raw('undefined members', pick(new ME('x', { data: undefined, origin: undefined, ports: undefined, source: undefined })));
  t.logTry('init null', () => pick(new ME('x', null)));
  t.logTry('init 5', () => pick(new ME('x', 5)));
  t.logTry('no type', () => pick(new ME()));
  t.logTry('type Symbol', () => pick(new ME(Symbol('s'))));
  t.logTry('origin Symbol', () => pick(new ME('x', { origin: Symbol('s') })));
  t.logTry('called without new', () => ME('x'));
});

scenario('new MessageEvent: source and ports validation', [31], (t) => {
  const ME = t.impl.MessageEvent;
  const { port1, port2 } = t.channel();
  t.logTry('source: a port', () => new ME('x', { source: port1 }).source === port1);
  t.logTry('source: null', () => new ME('x', { source: null }).source);
  t.logTry('source: {}', () => new ME('x', { source: {} }));
  t.logTry('source: 1', () => new ME('x', { source: 1 }));
  t.logTry("source: 'str'", () => new ME('x', { source: 'str' }));
  t.logTry('source: a function', () => new ME('x', { source: function named() {} }));
  t.logTry('source: new EventTarget()', () => new ME('x', { source: new EventTarget() }));
  t.logTry('ports: [port1, port2]', () => {
    const input = [port1, port2];
    const e = new ME('x', { ports: input });
    return [e.ports.length, e.ports !== input, e.ports[1] === port2, Object.isFrozen(e.ports)];
  });
  t.logTry('ports: Set of a port', () => new ME('x', { ports: new Set([port1]) }).ports.length);
  t.logTry('ports: [{}]', () => new ME('x', { ports: [{}] }));
  t.logTry('ports: [port1, 5]', () => new ME('x', { ports: [port1, 5] }));
  t.logTry('ports: 5', () => new ME('x', { ports: 5 }));
  t.logTry('ports: null', () => new ME('x', { ports: null }));
  t.logTry('ports: {}', () => new ME('x', { ports: {} }));
  t.logTry('ports: "ab"', () => new ME('x', { ports: 'ab' }));
  t.logTry('ports getter returns a generator', () => new ME('x', { ports: (function* g() { yield port1; })() }).ports.length);
});

scenario('new MessageEvent: order in which init members are read', [31], (t) => {
  const ME = t.impl.MessageEvent;
  const init = {};
  for (const k of ['ports', 'source', 'lastEventId', 'origin', 'data']) {
    Object.defineProperty(init, k, {
      get() {
        t.log(`read ${k}`);
        return undefined;
      },
      enumerable: true,
    });
  }
  t.logTry('construct', () => new ME('x', init).type);
  const bad = {
    get data() {
      t.log('read data (bad source case)');
      return 1;
    },
    source: {},
  };
  t.logTry('construct with bad source', () => new ME('x', bad));
});

scenario('messageerror: a JSTransferable whose deserializer cannot be loaded', [32, 23], async (t) => {
  const fsp = require('node:fs/promises');
  const { port1, port2 } = t.channel();
  t.watch(port2, 'port2', { close: false });
  const fh = await fsp.open(__filename);
  const kTransfer = Object.getOwnPropertySymbols(Object.getPrototypeOf(fh)).find(
    (s) => s.description === 'messaging_transfer_symbol',
  );
  fh[kTransfer] = () => ({ data: 'x', deserializeInfo: `${__filename}:NotARealClass` });
  t.logTry('post(fh, [fh])', () => port1.postMessage(fh, [fh]));
  port1.postMessage('after');
  await t.turns(4);
  // (fh was transferred away: closing it would abort Node v20.20.2.)
});

scenario('messageerror listeners: Node-style gets the Error, EventTarget gets a MessageEvent', [32], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('messageerror', (e) => t.log('node-style arg', e && e.constructor && e.constructor.name, e && e.message));
  port2.addEventListener('messageerror', (e) => {
    t.log('event', e.constructor.name, e.type, e.data instanceof Error, e.data && e.data.message);
  });
  port2.on('message', (m) => t.log('message', typeof m === 'object' ? 'deep object' : m));
  let v = { leaf: true };
  for (let i = 0; i < 2500; i++) v = { v };
  t.logTry('post depth 2500', () => port1.postMessage(v));
  port1.postMessage('after');
  await t.turns();
});

scenario('close event: MessagePortCloseEvent, same object for every listener, on both sides', [33], async (t) => {
  const { port1, port2 } = t.channel();
  const seen = [];
  const note = (who) =>
    function listener(e) {
      seen.push(e);
      t.log(who, {
        constructorName: e && e.constructor && e.constructor.name,
        proto: e && protoChain(e),
        type: e && e.type,
        instanceofEvent: e instanceof Event,
        thisIsTarget: this === e.target,
        targetIs: e.target === port1 ? 'port1' : e.target === port2 ? 'port2' : 'other',
        bubbles: e.bubbles,
        cancelable: e.cancelable,
        isTrusted: e.isTrusted,
        ownNames: Object.getOwnPropertyNames(e).sort(),
      });
    };
  port1.on('close', note('port1 on'));
  port1.addEventListener('close', note('port1 addEventListener'));
  port1.once('close', note('port1 once'));
  port2.on('close', note('port2 on'));
  t.log("'onclose' in port", 'onclose' in port1);
  port1.onclose = () => t.log('onclose attribute called (should not be)');
  port1.close();
  t.log('after close() (sync)');
  await t.turns();
  t.log('port1 listeners got the same object', seen.length >= 3 && seen[0] === seen[1] && seen[1] === seen[2]);
});

scenario('close event timing relative to ticks, microtasks, immediates and timers', [33, 43, 47], async (t) => {
  const { port1, port2 } = t.channel();
  port1.on('close', () => t.log('port1 close'));
  port2.on('close', () => t.log('port2 close'));
  setTimeout(() => t.log('timeout 0'), 0);
  t.spin(); // the timer is due at the next timers phase
  setImmediate(() => {
    t.log('immediate 1');
    setImmediate(() => t.log('immediate 2'));
  });
  port1.close();
  process.nextTick(() => t.log('nextTick'));
  Promise.resolve().then(() => t.log('microtask'));
  t.log('sync');
  await t.turns(3);
});

scenario('close listener added after close() still fires; close(cb) registers cb once', [33, 43], async (t) => {
  const { port1, port2 } = t.channel();
  port1.close(() => t.log('close cb 1'));
  port1.close(() => t.log('close cb 2 (second close call)'));
  port1.on('close', () => t.log('listener added after close()'));
  port2.on('close', () => t.log('port2 close'));
  t.log('listenerCount(close) right after', port1.listenerCount('close'));
  await t.turns();
  t.log('listenerCount(close) after', port1.listenerCount('close'));
  port1.close(() => t.log('close cb 3 (after the event)'));
  await t.turns();
});

scenario('listener exceptions surface as uncaughtException on nextTick; dispatch continues', [34, 57], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => {
    t.log('A', v);
    process.nextTick(() => t.log('tick from A', v));
    throw new Error(`boom ${v}`);
  });
  port2.addEventListener('message', (e) => {
    t.log('B', e.data);
    if (e.data === 2) throw new TypeError('from B');
  });
  port2.on('message', (v) => t.log('C', v));
  port1.postMessage(1);
  port1.postMessage(2);
  port1.postMessage(3);
  await t.turns();
});

scenario('exceptions from onmessage and close listeners', [34, 33], async (t) => {
  const { port1, port2 } = t.channel();
  port2.onmessage = (e) => {
    throw new RangeError(`onmessage ${e.data}`);
  };
  port2.on('close', () => {
    throw new Error('from close listener');
  });
  port2.on('close', () => t.log('second close listener'));
  port1.postMessage('x');
  await t.turns();
  port2.onmessage = null;
  port1.close();
  await t.turns();
});

scenario.isolated('an uncaught listener exception crashes the process (exit 1, stderr)', [34], (t) => {
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.on('message', (v) => {
    t.log('message', v);
    if (v === 2) throw new Error('listener failure');
  });
  port1.postMessage(1);
  port1.postMessage(2);
  port1.postMessage(3);
  process.on('exit', (code) => t.log('exit', code));
});

scenario.isolated('an async listener that rejects crashes the process as Node reports it', [34], (t) => {
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.on('message', async (v) => {
    t.log('message', v);
    if (v === 2) throw new TypeError('async listener failure');
  });
  port1.postMessage(1);
  port1.postMessage(2);
  port1.postMessage(3);
  process.on('exit', (code) => t.log('exit', code));
}, {
  excerptDiffers: true,
  reason:
    "the rejection's rethrow tick runs inside ringport's drain, so Node's report names where the error was made, not event_target's rethrow line (README, Differences)",
});

scenario('a handled listener exception: the rest of the backlog waits for the next wake-up', [34], async (t) => {
  const { port1, port2 } = t.channel();
  process.on('uncaughtException', function onError(error) {
    process.off('uncaughtException', onError);
    t.log('uncaughtException', error.message);
    setImmediate(() => t.log('immediate after the exception'));
  });
  port2.on('message', (v) => {
    t.log('message', v);
    process.nextTick(() => t.log('tick', v));
    if (v === 2) throw new Error('listener failure');
  });
  for (let i = 1; i <= 4; i++) port1.postMessage(i);
  await t.turns();
  port2.close();
});

scenario("one plain .on() listener: what it returns is handled as Node's dispatch handles it", [34], async (t) => {
  const { port1, port2 } = t.channel();
  process.on('uncaughtException', function onError(error) {
    t.log('uncaughtException', error.message);
    if (error.message === 'rejected 3') process.off('uncaughtException', onError);
  });
  port2.on('message', (v) => {
    t.log('message', v);
    if (v === 1) return { then: (resolve, reject) => t.log('then called with', typeof resolve, typeof reject) };
    if (v === 2) return 42;
    if (v === 3) return Promise.reject(new Error('rejected 3'));
    if (v === 4) return null;
    process.nextTick(() => t.log('tick', v));
    return undefined;
  });
  for (let i = 1; i <= 5; i++) port1.postMessage(i);
  await t.turns();
  port2.close();
});

scenario('emit(): synchronous dispatch, MessageEvent or CustomEvent, return value', [35], (t) => {
  const { port2 } = t.channel();
  port2.on('message', (v) => t.log('on message', v));
  port2.addEventListener('message', (e) => {
    t.log('addEventListener message', e.constructor.name, e.data, e.ports && e.ports.length, e.isTrusted);
  });
  port2.on('foo', (v) => t.log('on foo', v));
  port2.addEventListener('foo', (e) => t.log('addEventListener foo', e.constructor.name, e.detail, e.type));
  port2.addEventListener('messageerror', (e) => t.log('addEventListener messageerror', e.constructor.name, e.data));
  t.log('emit message returned', port2.emit('message', { x: 1 }));
  t.log('after emit (sync)');
  t.log('emit foo returned', port2.emit('foo', 'detail'));
  t.log('emit messageerror returned', port2.emit('messageerror', 'err'));
  t.log('emit bar (no listener) returned', port2.emit('bar', 1));
  t.log('emit with no arg', port2.emit('message'));
  t.log('emit with two args', port2.emit('message', 'a', 'b'));
});

scenario('emit("message") does not start an unstarted port', [35, 36], async (t) => {
  const { port1, port2 } = t.channel();
  port1.postMessage('queued');
  t.log('emit returned', port2.emit('message', 'emitted'));
  await t.turns();
  port2.on('message', (v) => t.log('on', v));
  await t.turns();
});
