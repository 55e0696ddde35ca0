'use strict';
// NODE_SEMANTICS.md section 2: postMessage argument validation, transfer-list
// checks and their order, atomicity of detaching, DataCloneErrors, posting the
// entangled peer, return values, posting on closed ports.
const path = require('node:path');
const { markAsUntransferable } = require('node:worker_threads');
const scenario = require('../harness/define')(module);

const WORKERS = path.join(__dirname, 'workers');

/** Posts and logs { returned | threw } under label. */
function post(t, label, port, ...args) {
  return t.logTry(label, () => port.postMessage(...args));
}

/** Collects what `port` receives until `count` messages (or a timeout) and logs them. */
function collect(t, port, name) {
  port.on('message', (m) => t.log(`${name} got`, m));
}

scenario('postMessage() without arguments throws ERR_MISSING_ARGS', [8], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  post(t, 'postMessage()', port1);
  post(t, 'postMessage(undefined)', port1, undefined);
  post(t, 'postMessage(undefined, undefined)', port1, undefined, undefined);
  post(t, 'postMessage.apply(port, [])', port1);
  await t.turns();
});

scenario('second argument null or undefined means no transfer', [9], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  post(t, '(1, null)', port1, 1, null);
  post(t, '(2, undefined)', port1, 2, undefined);
  await t.turns();
});

scenario('second argument of a primitive type throws', [9], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  for (const [label, v] of [
    ['0', 0],
    ['1', 1],
    ['NaN', NaN],
    ["''", ''],
    ["'abc'", 'abc'],
    ['true', true],
    ['false', false],
    ['Symbol()', Symbol('s')],
    ['1n', 1n],
  ]) {
    post(t, `(x, ${label})`, port1, 'x', v);
  }
  await t.turns();
});

scenario('second argument: a function is an options bag', [9, 10], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const ab = new ArrayBuffer(2);
  post(t, '(1, () => {})', port1, 1, () => {});
  const fn = () => {};
  fn.transfer = [ab];
  post(t, '(2, fn with .transfer)', port1, 2, fn);
  t.log('ab.byteLength', ab.byteLength);
  await t.turns();
});

scenario('transfer list forms: array, Set, generator, options bag', [10, 26], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const forms = [
    ['array', (ab) => [ab]],
    ['Set', (ab) => new Set([ab])],
    ['generator', (ab) => (function* gen() { yield ab; })()],
    ['{transfer: array}', (ab) => ({ transfer: [ab] })],
    ['{transfer: Set}', (ab) => ({ transfer: new Set([ab]) })],
    ['{transfer: generator}', (ab) => ({ transfer: (function* gen() { yield ab; })() })],
    ['{transfer: Map.keys()}', (ab) => ({ transfer: new Map([[ab, 1]]).keys() })],
    ['custom iterable', (ab) => ({ [Symbol.iterator]: () => [ab][Symbol.iterator]() })],
    ['{}', () => ({})],
    ['{transfer: undefined}', () => ({ transfer: undefined })],
    ['empty generator', () => (function* gen() {})()],
    ['{transfer: []}', () => ({ transfer: [] })],
    ['array-like object (not iterable)', (ab) => ({ length: 1, 0: ab })],
  ];
  for (const [label, make] of forms) {
    const ab = new Uint8Array([1, 2, 3]).buffer;
    post(t, label, port1, { label, ab }, make(ab));
    t.log(`${label}: sender byteLength`, ab.byteLength);
  }
  await t.turns();
});

scenario('options.transfer that is not iterable throws', [10], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const cases = [
    ['{transfer: null}', { transfer: null }],
    ['{transfer: 0}', { transfer: 0 }],
    ['{transfer: 1}', { transfer: 1 }],
    ['{transfer: {}}', { transfer: {} }],
    ['{transfer: true}', { transfer: true }],
    ["{transfer: 'abc'}", { transfer: 'abc' }],
    ['{transfer: {[Symbol.iterator]: 1}}', { transfer: { [Symbol.iterator]: 1 } }],
    ['{transfer: iterator with next not a function}', { transfer: { [Symbol.iterator]: () => ({ next: 1 }) } }],
    ['{transfer: iterator returning null}', { transfer: { [Symbol.iterator]: () => null } }],
    ['{transfer: next() returns 1}', { transfer: { [Symbol.iterator]: () => ({ next: () => 1 }) } }],
    ['{transfer: next() returns undefined}', { transfer: { [Symbol.iterator]: () => ({ next: () => undefined }) } }],
    ['{[Symbol.iterator]: null, transfer: 5}', { [Symbol.iterator]: null, transfer: 5 }],
    ['iterable whose next is not a function', { [Symbol.iterator]: () => ({ next: 'x' }) }],
    ['iterable whose next returns 1', { [Symbol.iterator]: () => ({ next: () => 1 }) }],
  ];
  for (const [label, arg] of cases) post(t, label, port1, label, arg);
  await t.turns();
});

scenario('transfer iterables yielding wrong things', [10, 12], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  post(t, "new String('ab') as transfer list", port1, 0, new String('ab'));
  post(t, 'Uint8Array as transfer list', port1, 0, new Uint8Array(2));
  post(t, 'Map as transfer list (yields entries)', port1, 0, new Map([[new ArrayBuffer(1), 1]]));
  post(t, 'array with a hole', port1, 0, [, new ArrayBuffer(1)]); // eslint-disable-line no-sparse-arrays
  await t.turns();
});

scenario('an Array transfer list is read by index, not through Symbol.iterator', [10], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const a = new ArrayBuffer(1);
  const b = new ArrayBuffer(2);
  const list = [a];
  list[Symbol.iterator] = function* it() {
    t.log('custom iterator called');
    yield b;
  };
  post(t, 'array with overridden iterator', port1, 'x', list);
  t.log('a, b byteLength', a.byteLength, b.byteLength);
  const c = new ArrayBuffer(3);
  const getterList = [];
  Object.defineProperty(getterList, 0, {
    get() {
      t.log('index getter called');
      return c;
    },
    enumerable: true,
  });
  post(t, 'array with an index getter', port1, 'y', getterList);
  t.log('c byteLength', c.byteLength);
  class MyArray extends Array {}
  const d = new ArrayBuffer(4);
  post(t, 'Array subclass', port1, 'z', MyArray.from([d]));
  t.log('d byteLength', d.byteLength);
  await t.turns();
});

scenario('a Proxy transfer list is iterated through its traps', [10], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const ab = new ArrayBuffer(1);
  const trapped = new Proxy([ab], {
    get(target, key, receiver) {
      t.log('get', typeof key === 'symbol' ? key.description : key);
      return Reflect.get(target, key, receiver);
    },
  });
  post(t, 'proxy of [ab]', port1, 'p', trapped);
  t.log('ab byteLength', ab.byteLength);
  await t.turns();
});

scenario('errors thrown while reading the transfer list propagate unchanged', [10], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const boom = new RangeError('boom');
  const same = (label, arg) => {
    try {
      port1.postMessage(label, arg);
      t.log(`${label}: no throw`);
    } catch (e) {
      t.log(`${label}: same error object`, e === boom);
    }
  };
  same('[Symbol.iterator] throws', {
    [Symbol.iterator]() {
      throw boom;
    },
  });
  same('next() throws', {
    [Symbol.iterator]: () => ({
      next() {
        throw boom;
      },
    }),
  });
  same('.transfer getter throws', {
    get transfer() {
      throw boom;
    },
  });
  same('done getter throws', {
    [Symbol.iterator]: () => ({
      next: () => ({
        get done() {
          throw boom;
        },
      }),
    }),
  });
  same('value getter throws', {
    [Symbol.iterator]: () => ({
      n: 0,
      next() {
        return this.n++
          ? { done: true }
          : {
              done: false,
              get value() {
                throw boom;
              },
            };
      },
    }),
  });
  same('Symbol.iterator getter throws', {
    get [Symbol.iterator]() {
      throw boom;
    },
  });
  await t.turns();
});

scenario('the transfer iterable is consumed before the value is serialized', [11, 13], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const ab = new ArrayBuffer(1);
  const value = {
    get a() {
      t.log('value getter a');
      return 1;
    },
    get b() {
      t.log('value getter b');
      return 2;
    },
  };
  const transfer = {
    [Symbol.iterator]() {
      t.log('iterator created');
      let i = 0;
      return {
        next() {
          t.log(`next ${i}`);
          return i++ < 2 ? { done: false, value: i === 1 ? ab : new ArrayBuffer(2) } : { done: true };
        },
      };
    },
  };
  post(t, 'post', port1, value, transfer);
  await t.turns();
});

scenario('the transfer iterable is consumed once; iterator return() is not called', [11], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const transfer = {
    [Symbol.iterator]() {
      t.log('[Symbol.iterator]');
      let i = 0;
      return {
        next() {
          t.log(`next ${i}`);
          return i++ < 1 ? { done: false, value: 5 } : { done: true };
        },
        return() {
          t.log('return() called');
          return {};
        },
      };
    },
  };
  post(t, 'invalid entry from iterator', port1, 'x', transfer);
  await t.turns();
});

scenario('an infinite transfer iterator in a worker is stopped by worker.terminate()', [11], async (t) => {
  const w = t.startWorker(path.join(WORKERS, 'infinite-transfer.js'), null, null);
  const messages = [];
  w.on('message', (m) => messages.push(m));
  const exited = t.when(w, 'exit', 5000);
  for (let i = 0; i < 100 && messages.length === 0; i++) await t.wait(20);
  t.log('worker says', messages[0]);
  await t.wait(50);
  const result = await w.terminate();
  t.log('terminate() resolved with', result);
  t.log('exit event code', (await exited)[0]);
  t.log('messages after ready (no JS after termination)', messages.slice(1));
});

scenario('transfer-list entry checks: ArrayBuffers', [12], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const ab = new ArrayBuffer(4);
  post(t, '[ab, ab]', port1, 'dup', [ab, ab]);
  t.log('ab byteLength', ab.byteLength);
  const detached = new ArrayBuffer(4);
  structuredClone(detached, { transfer: [detached] });
  post(t, '[already detached ab]', port1, 'detached-in-list', [detached]);
  const mem = new WebAssembly.Memory({ initial: 1 });
  post(t, '[wasm memory buffer] (not detachable: skipped)', port1, mem.buffer, [mem.buffer]);
  t.log('wasm buffer byteLength after', mem.buffer.byteLength);
  const marked = new ArrayBuffer(3);
  new Uint8Array(marked).set([7, 8, 9]);
  markAsUntransferable(marked);
  post(t, '[marked ab] (skipped: copied)', port1, marked, [marked]);
  t.log('marked byteLength after', marked.byteLength);
  post(t, '[marked, marked] (no duplicate error)', port1, 'marked twice', [marked, marked]);
  await t.turns();
});

scenario('transfer-list entry checks: a pooled Buffer keeps its pool', [12, 22, 28], async (t) => {
  const { port1, port2 } = t.channel();
  const buf = Buffer.from('pooled!');
  t.log('is pooled', buf.buffer.byteLength > buf.length);
  const got = t.next(port2);
  post(t, 'postMessage(buf, [buf.buffer])', port1, buf, [buf.buffer]);
  t.log('sender pool byteLength', buf.buffer.byteLength, 'sender buf', buf.toString());
  const m = await got;
  t.log('received kind', Object.prototype.toString.call(m), Buffer.isBuffer(m));
  t.log('received length/offset', m.length, m.byteOffset === buf.byteOffset);
  t.log('received buffer byteLength', m.buffer.byteLength);
  t.log('received text', Buffer.from(m).toString());
});

scenario('transfer-list entry checks: ports (source, closed, transferred, duplicate)', [12], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  post(t, '[source port]', port1, 'self', [port1]);
  const c = t.channel('c1', 'c2');
  c.port1.close();
  post(t, '[port closed just now]', port1, 'closed', [c.port1]);
  const d = t.channel('d1', 'd2');
  post(t, '[d1, d1]', port1, 'dup', [d.port1, d.port1]);
  const e = t.channel('e1', 'e2');
  post(t, 'transfer e1', port1, 'transfer e1', [e.port1]);
  post(t, '[e1 again]', port1, 'again', [e.port1]);
  await t.turns();
  post(t, '[c1 after its close event]', port1, 'closed later', [c.port1]);
  // the source check also applies to a closed sender
  const f = t.channel('f1', 'f2');
  f.port1.close();
  post(t, 'closed f1: [f1]', f.port1, 'x', [f.port1]);
  post(t, 'closed f1: [f1, ab] then ab', f.port1, 'x', [new ArrayBuffer(1), f.port1]);
  await t.turns();
});

scenario('transfer-list entry checks: invalid objects', [12], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const mod = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  const cases = [
    ['1', 1],
    ['null', null],
    ['undefined', undefined],
    ["'str'", 'str'],
    ['Symbol()', Symbol('x')],
    ['{}', {}],
    ['[]', []],
    ['function', () => {}],
    ['Uint8Array', new Uint8Array(1)],
    ['Buffer', Buffer.alloc(1)],
    ['DataView', new DataView(new ArrayBuffer(1))],
    ['SharedArrayBuffer', new SharedArrayBuffer(1)],
    ['WebAssembly.Module', mod],
    ['WebAssembly.Memory', new WebAssembly.Memory({ initial: 1 })],
    ['Date', new Date(0)],
    ['MessageChannel', new t.impl.MessageChannel()],
    ['Promise', Promise.resolve()],
  ];
  for (const [label, v] of cases) post(t, `[${label}]`, port1, label, [v]);
  await t.turns();
});

scenario('transfer-list checks run in list order', [12], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const ab = new ArrayBuffer(1);
  const closed = t.channel('closed1', 'closed2').port1;
  closed.close();
  const p = t.channel('p1', 'p2').port1;
  const lists = [
    ['[1, ab, ab]', [1, ab, ab]],
    ['[ab, ab, 1]', [ab, ab, 1]],
    ['[ab, 1, ab]', [ab, 1, ab]],
    ['[source, 1]', [port1, 1]],
    ['[1, source]', [1, port1]],
    ['[closed, 1]', [closed, 1]],
    ['[1, closed]', [1, closed]],
    ['[p, p, 1]', [p, p, 1]],
    ['[p, 1, p]', [p, 1, p]],
    ['[p, closed, p]', [p, closed, p]],
    ['[p, p, closed]', [p, p, closed]],
    ['[ab, source, ab]', [ab, port1, ab]],
    ['[ab, ab, source]', [ab, ab, port1]],
    ['[closed, source]', [closed, port1]],
    ['[source, closed]', [port1, closed]],
  ];
  for (const [label, list] of lists) post(t, label, port1, label, list);
  t.log('ab byteLength', ab.byteLength);
  t.log('p still usable', p.postMessage('still usable'));
  await t.turns();
});

scenario('markAsUntransferable(port): skipped in the list, error if in the value', [12, 28], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const m = t.channel('m1', 'm2');
  markAsUntransferable(m.port1);
  post(t, 'post(0, [m1])', port1, 0, [m.port1]);
  post(t, 'post({p: m1}, [m1])', port1, { p: m.port1 }, [m.port1]);
  const got = t.next(m.port2);
  post(t, 'm1 still usable', m.port1, 'via m1');
  t.log('m2 received', await got);
  await t.turns();
});

scenario('markAsUntransferable on primitives and plain objects has no visible effect', [28], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  t.logTry('markAsUntransferable(1)', () => markAsUntransferable(1));
  t.logTry('markAsUntransferable(null)', () => markAsUntransferable(null));
  const obj = { a: 1 };
  t.logTry('markAsUntransferable({a: 1})', () => markAsUntransferable(obj));
  t.log('own keys after marking', Reflect.ownKeys(obj).map(String));
  post(t, 'post(obj)', port1, obj);
  await t.turns();
});

scenario('host transferables in the transfer list: FileHandle, AbortSignal, streams', [12, 23], async (t) => {
  const fsp = require('node:fs/promises');
  const util = require('node:util');
  const { port1, port2 } = t.channel();
  const fh = await fsp.open(__filename);
  let got = t.next(port2);
  post(t, 'post(fh, [fh])', port1, fh, [fh]);
  let m = await got;
  t.log('FileHandle received', m && m.constructor && m.constructor.name, typeof (m && m.fd));
  t.log('sender fd after', fh.fd);
  if (m && typeof m.close === 'function') await m.close();
  const signal = util.transferableAbortSignal(new AbortController().signal);
  got = t.next(port2);
  post(t, 'post(signal, [signal])', port1, signal, [signal]);
  m = await got;
  t.log('AbortSignal received', m && m.constructor && m.constructor.name, m && m.aborted);
  const rs = new ReadableStream({
    start(c) {
      c.enqueue('chunk');
      c.close();
    },
  });
  got = t.next(port2);
  post(t, 'post(rs, [rs])', port1, rs, [rs]);
  m = await got;
  t.log('ReadableStream received', m && m.constructor && m.constructor.name);
  t.log('sender stream locked', rs.locked);
  if (m && typeof m.getReader === 'function') {
    const r = m.getReader();
    t.log('read', await r.read());
  }
});

scenario('nothing is detached when a later check fails', [13], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const ab = new ArrayBuffer(4);
  const ab2 = new ArrayBuffer(5);
  post(t, '[ab, 1]', port1, 'a', [ab, 1]);
  t.log('ab', ab.byteLength);
  post(t, '[ab, ab2, ab]', port1, 'b', [ab, ab2, ab]);
  t.log('ab, ab2', ab.byteLength, ab2.byteLength);
  const q = t.channel('q1', 'q2');
  post(t, '[ab, q1, source]', port1, 'c', [ab, q.port1, port1]);
  t.log('ab', ab.byteLength);
  post(t, 'q1 still usable after failed call', q.port1, 'q1 works');
  const got = t.next(q.port2);
  t.log('q2 got', await got);
  await t.turns();
});

scenario('nothing is detached when serialization fails', [13, 15], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const ab = new ArrayBuffer(4);
  const q = t.channel('q1', 'q2');
  post(t, '{fn} with [ab, q1]', port1, { ab, fn() {} }, [ab, q.port1]);
  t.log('ab after', ab.byteLength);
  post(t, 'getter throws with [ab, q1]', port1, {
    get boom() {
      throw new Error('getter boom');
    },
  }, [ab, q.port1]);
  t.log('ab after', ab.byteLength);
  post(t, '{q1 in value, symbol} with [q1]', port1, { p: q.port1, s: Symbol('no') }, [q.port1]);
  // q1 can still be transferred for real
  post(t, 'now transfer q1 properly', port1, { p: q.port1 }, [q.port1]);
  await t.turns();
  t.log('q1 hasRef after transfer', q.port1.hasRef());
  post(t, 'q1 posting after transfer', q.port1, 'x');
});

scenario('a port in the value but not in the transfer list throws ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST', [14], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const q = t.channel('q1', 'q2');
  const r = t.channel('r1', 'r2');
  post(t, 'value is the port', port1, q.port1);
  post(t, '{p}', port1, { p: q.port1 });
  post(t, '[[p]]', port1, [[q.port1]]);
  post(t, 'Map value', port1, new Map([['k', q.port1]]));
  post(t, 'Set', port1, new Set([q.port1]));
  post(t, 'listed q1, unlisted r1', port1, { q: q.port1, r: r.port1 }, [q.port1]);
  post(t, 'q1 listed but closed sender?', port1, 'after');
  t.log('q1 and r1 hasRef', q.port1.hasRef(), r.port1.hasRef());
  post(t, 'r1 still usable', r.port1, 'r1 works');
  t.log('r2 got', await t.next(r.port2));
  await t.turns();
});

scenario('uncloneable values throw DataCloneError (code 25) with V8 messages', [15], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const values = [
    ['function foo() {}', function foo() {}],
    ['() => 1', () => 1],
    ['class A {}', class A {}],
    ['async function', async function af() {}],
    ['Symbol(x)', Symbol('x')],
    ['{ s: Symbol() }', { s: Symbol('inner') }],
    ['{ m() {} }', { m() {} }],
    ['WeakMap', new WeakMap()],
    ['WeakSet', new WeakSet()],
    ['WeakRef', new WeakRef({})],
    ['Promise', Promise.resolve(1)],
    ['Proxy({})', new Proxy({}, {})],
    ['Proxy([])', new Proxy([], {})],
    ['generator object', (function* g() {})()],
    ['[fn] nested', [1, [2, () => 3]]],
    ['Map with fn value', new Map([[1, () => {}]])],
    ['Set with symbol', new Set([Symbol('in set')])],
    ['Map with symbol key', new Map([[Symbol('key'), 1]])],
    ['bound function', function bf() {}.bind(null)],
    ['process.hrtime', process.hrtime],
    ['FinalizationRegistry', new FinalizationRegistry(() => {})],
    ['Intl.Collator', new Intl.Collator()],
    ['globalThis', globalThis],
  ];
  for (const [label, v] of values) post(t, label, port1, v);
  await t.turns();
});

scenario('DataCloneError objects: class, instanceof, code, own properties', [15], (t) => {
  const { port1 } = t.channel();
  try {
    port1.postMessage(() => {});
  } catch (e) {
    t.log('error', e);
    t.log('instanceof global DOMException', e instanceof DOMException);
    t.log('constructor is DOMException', e.constructor === DOMException);
    t.log('code', e.code, 'DATA_CLONE_ERR', DOMException.DATA_CLONE_ERR);
    t.log('own keys', Reflect.ownKeys(e).map(String));
    t.log('toString', String(e));
  }
});

scenario('an exception thrown by a getter during serialization propagates unchanged', [15], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const thrown = new Error('from getter');
  try {
    port1.postMessage({
      a: 1,
      get b() {
        throw thrown;
      },
    });
  } catch (e) {
    t.log('same object', e === thrown);
  }
  try {
    port1.postMessage({
      get b() {
        throw 'a string'; // eslint-disable-line no-throw-literal
      },
    });
  } catch (e) {
    t.log('thrown primitive', e);
  }
  const ab = new ArrayBuffer(1);
  try {
    port1.postMessage([ab, { get x() { throw thrown; } }], [ab]);
  } catch (e) {
    t.log('same object with transfer', e === thrown, ab.byteLength);
  }
  await t.turns();
});

scenario('native objects that are not cloneable', [15], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  const zlib = require('node:zlib');
  const gz = zlib.createGzip();
  post(t, 'zlib native handle', port1, gz._handle);
  post(t, 'zlib stream object', port1, { s: gz });
  gz.close();
  await t.turns();
});

scenario('posting the entangled peer: returns true, detaches, warns, channel lost', [16, 17], async (t) => {
  const { port1, port2 } = t.channel();
  t.watch(port2, 'port2');
  port1.on('close', () => t.log('port1:close'));
  const ab = new ArrayBuffer(8);
  post(t, 'port1.postMessage({x}, [ab, port2])', port1, { x: 1, ab }, [ab, port2]);
  t.log('ab byteLength', ab.byteLength);
  t.log('port2.hasRef()', port2.hasRef());
  post(t, 'port1.postMessage(after)', port1, 'after');
  post(t, 'port2.postMessage(back)', port2, 'back');
  t.log('after sync part');
  await t.turns(4);
  t.log('port1.hasRef() later', port1.hasRef());
  t.log('port2.hasRef() later', port2.hasRef());
  post(t, 'port1.postMessage(later)', port1, 'later');
  post(t, 'port2.postMessage(later)', port2, 'later');
});

scenario('posting the entangled peer from port2, with port1 listening', [16], async (t) => {
  const { port1, port2 } = t.channel();
  t.watch(port1, 'port1');
  port2.on('close', () => t.log('port2:close'));
  post(t, 'port1.postMessage(first)', port2, 'first');
  post(t, 'port2.postMessage(x, [port1])', port2, 'x', [port1]);
  post(t, 'port2.postMessage(next)', port2, 'next');
  await t.turns(4);
});

scenario('posting the entangled peer with another port in the list', [16, 60], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port2.on('close', () => t.log('q2:close'));
  q.port1.on('close', () => t.log('q1:close'));
  post(t, 'port1.postMessage(x, [q1, port2])', port1, 'x', [q.port1, port2]);
  post(t, 'q1 after', q.port1, 'q1 after');
  post(t, 'q2 after', q.port2, 'q2 after');
  await t.turns(4);
  t.log('q2.hasRef()', q.port2.hasRef());
});

scenario.isolated('posting the entangled peer: the peer does not keep the process alive', [16, 40], (t) => {
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.on('message', (m) => t.log('port2 message', m));
  t.log('port1 returned', port1.postMessage('x', [port2]));
  setTimeout(() => {
    t.log('still alive after 500 ms');
    process.exit(3);
  }, 500).unref();
  process.on('beforeExit', () => t.log('beforeExit'));
});

scenario('return values: true, true after peer close(), undefined when closed', [17], async (t) => {
  const { port1, port2 } = t.channel();
  post(t, 'open', port1, 1);
  port2.close();
  post(t, 'right after peer close()', port1, 2);
  post(t, 'closed port itself', port2, 3);
  await t.turns();
  post(t, 'after the close events', port1, 4);
  post(t, 'closed port after its close event', port2, 5);
});

scenario('return value false: peer closed but its close marker is queued behind data', [17, 44], async (t) => {
  const { port1, port2 } = t.channel();
  port1.postMessage('pending');
  port1.close();
  await t.wait(20);
  post(t, 'port2.postMessage() with pending data', port2, 'back');
  t.log('port2.hasRef()', port2.hasRef());
  t.watch(port2, 'port2');
  await t.turns();
  post(t, 'port2 after draining', port2, 'back again');
});

scenario('return value undefined: no pending data, peer closed by itself', [17, 44], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('close', () => t.log('port2:close (never started)'));
  port1.close();
  await t.wait(20);
  post(t, 'port2.postMessage()', port2, 'x');
  t.log('port2.hasRef()', port2.hasRef());
});

scenario('return value on a transferred-away port', [17, 60], async (t) => {
  const { port1 } = t.channel();
  const q = t.channel('q1', 'q2');
  port1.postMessage(null, [q.port1]);
  post(t, 'q1 right after transfer', q.port1, 'x');
  await t.turns();
  post(t, 'q1 after its close event', q.port1, 'y');
});

scenario('posting on a closed port still serializes and detaches', [18], async (t) => {
  const { port1, port2 } = t.channel();
  collect(t, port2, 'port2');
  port1.close();
  post(t, 'function on closed port', port1, () => {});
  const ab = new ArrayBuffer(4);
  post(t, 'ab transferred on closed port', port1, ab, [ab]);
  t.log('ab byteLength', ab.byteLength);
  post(t, '[ab, ab] on closed port', port1, 0, [new ArrayBuffer(1), new ArrayBuffer(1), 1]);
  const q = t.channel('q1', 'q2');
  q.port2.on('close', () => t.log('q2:close'));
  post(t, 'port transferred on closed port', port1, 'x', [q.port1]);
  post(t, 'q1 afterwards', q.port1, 'y');
  const gotten = [];
  q.port2.on('message', (m) => gotten.push(m));
  await t.turns(4);
  t.log('q2 got', gotten);
  t.log('q1 hasRef', q.port1.hasRef());
  await t.turns();
  post(t, 'closed port after close event: still detaches', port1, ab, [ab]);
  const ab2 = new ArrayBuffer(2);
  post(t, 'closed port after close event, fresh ab', port1, ab2, [ab2]);
  t.log('ab2 byteLength', ab2.byteLength);
});

scenario('posting on a transferred-away port still serializes and detaches', [18, 60], async (t) => {
  const { port1 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port2.on('message', (m) => t.log('q2 got', m));
  port1.postMessage(null, [q.port1]);
  const ab = new ArrayBuffer(3);
  post(t, 'function', q.port1, Symbol('x'));
  post(t, 'ab', q.port1, ab, [ab]);
  t.log('ab byteLength', ab.byteLength);
  await t.turns();
});
