'use strict';
// NODE_SEMANTICS.md section 4: ArrayBuffer transfer, SharedArrayBuffer and
// WebAssembly sharing (same thread and across threads).
const scenario = require('../harness/define')(module);

const WASM_EMPTY = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

function viewState(t, label, v) {
  const read = (fn) => {
    try {
      return fn();
    } catch (e) {
      return `threw ${e.constructor.name}: ${e.message}`;
    }
  };
  t.log(label, read(() => v.byteLength), read(() => v.byteOffset), read(() => v.length));
}

scenario('a transferred ArrayBuffer is detached in the sender, views become empty', [26], async (t) => {
  const { port1, port2 } = t.channel();
  const ab = new ArrayBuffer(16);
  new Uint8Array(ab).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  const u8 = new Uint8Array(ab, 4, 8);
  const f64 = new Float64Array(ab);
  const dv = new DataView(ab, 2);
  const got = t.next(port2);
  t.logTry('post(ab, [ab])', () => port1.postMessage(ab, [ab]));
  t.log('ab.byteLength', ab.byteLength);
  viewState(t, 'u8 (byteLength, byteOffset, length)', u8);
  viewState(t, 'f64', f64);
  viewState(t, 'dv', dv);
  t.logTry('u8[0]', () => u8[0]);
  t.logTry('ab.slice()', () => ab.slice(0).byteLength);
  const m = await got;
  t.log('received', m);
});

scenario('transferring the buffer of a view sent in the value', [26], async (t) => {
  const { port1, port2 } = t.channel();
  const u8 = new Uint8Array([5, 6, 7, 8]);
  const sub = u8.subarray(1, 3);
  const got = t.next(port2);
  t.logTry('post({u8, sub}, [u8.buffer])', () => port1.postMessage({ u8, sub }, [u8.buffer]));
  t.log('sender u8.length, sub.length', u8.length, sub.length);
  const m = await got;
  t.log('received', m);
  t.log('received views share the buffer', m.u8.buffer === m.sub.buffer);
});

scenario('transferring resizable, zero-length and large ArrayBuffers', [26], async (t) => {
  const { port1, port2 } = t.channel();
  const got = [];
  port2.on('message', (m) => got.push(m));
  const rab = new ArrayBuffer(4, { maxByteLength: 32 });
  new Uint8Array(rab).set([9, 9, 9, 9]);
  const tracking = new Uint8Array(rab);
  const zero = new ArrayBuffer(0);
  const big = new ArrayBuffer(16 << 20);
  new Uint8Array(big).fill(0xab, 1000, 2000);
  t.logTry('resizable', () => port1.postMessage({ rab, tracking }, [rab]));
  t.logTry('zero-length', () => port1.postMessage(zero, [zero]));
  t.logTry('16 MiB', () => port1.postMessage(big, [big]));
  t.log('sender byteLengths', rab.byteLength, zero.byteLength, big.byteLength);
  t.logTry('sender rab.resize(8)', () => rab.resize(8));
  await t.turns();
  t.log('received', got[0]);
  t.logTry('received rab.resize(20) and tracking length', () => {
    got[0].rab.resize(20);
    return got[0].tracking.length;
  });
  t.log('received zero', got[1]);
  t.log('received big', got[2]);
});

scenario('an ArrayBuffer transferred in one message and cloned in a later one', [26], async (t) => {
  const { port1, port2 } = t.channel();
  const got = [];
  port2.on('message', (m) => got.push(m));
  const ab = new Uint8Array([1, 2]).buffer;
  port1.postMessage(ab, [ab]);
  t.logTry('clone the now-detached buffer', () => port1.postMessage(ab));
  t.logTry('transfer the now-detached buffer again', () => port1.postMessage(0, [ab]));
  await t.turns();
  t.log('received', got);
});

scenario('the same ArrayBuffer in the value twice with transfer keeps identity', [26, 19], async (t) => {
  const { port1, port2 } = t.channel();
  const ab = new ArrayBuffer(4);
  const got = t.next(port2);
  port1.postMessage({ a: ab, b: ab, v: new Uint8Array(ab, 1, 2) }, [ab]);
  const m = await got;
  t.log('a === b', m.a === m.b, 'view over it', m.v.buffer === m.a);
});

scenario('SharedArrayBuffer is shared, not copied (same thread)', [27], async (t) => {
  const { port1, port2 } = t.channel();
  const sab = new SharedArrayBuffer(8);
  const view = new Int32Array(sab);
  view[0] = 1;
  const got = t.next(port2);
  t.logTry('post(sab)', () => port1.postMessage(sab));
  const m = await got;
  t.log('received tag and byteLength', Object.prototype.toString.call(m), m && m.byteLength);
  t.log('received !== sent', m !== sab);
  if (m instanceof SharedArrayBuffer) {
    const rv = new Int32Array(m);
    t.log('receiver sees 1', rv[0]);
    rv[1] = 42;
    t.log('sender sees 42', view[1]);
  }
  t.log('sender still usable', sab.byteLength);
});

scenario('SharedArrayBuffers: zero-length, several, repeated, views, growable', [27], async (t) => {
  const { port1, port2 } = t.channel();
  const a = new SharedArrayBuffer(4);
  const b = new SharedArrayBuffer(0);
  const g = new SharedArrayBuffer(4, { maxByteLength: 16 });
  const got = t.next(port2);
  t.logTry('post', () =>
    port1.postMessage({ a, a2: a, b, view: new Uint8Array(a, 1, 2), g, gview: new Uint8Array(g) }));
  const m = await got;
  if (typeof m !== 'object') {
    t.log('received', m);
    return;
  }
  t.log('a === a2', m.a === m.a2, 'view shares a', m.view.buffer === m.a);
  t.log('zero-length', m.b.byteLength);
  t.log('growable', m.g.growable, m.g.maxByteLength);
  new Uint8Array(m.a)[1] = 7;
  t.log('sender sees write', new Uint8Array(a)[1]);
  g.grow(12);
  t.log('receiver sees growth', m.g.byteLength, m.gview.length);
});

scenario('SharedArrayBuffer in a transfer list is an invalid object', [12, 27], (t) => {
  const { port1 } = t.channel();
  const sab = new SharedArrayBuffer(4);
  t.logTry('post(sab, [sab])', () => port1.postMessage(sab, [sab]));
});

scenario('WebAssembly.Module is cloned; WebAssembly shared memory is shared', [19, 27], async (t) => {
  const { port1, port2 } = t.channel();
  const got = [];
  port2.on('message', (m) => got.push(m));
  port2.on('messageerror', (e) => t.log('messageerror', e));
  const mod = new WebAssembly.Module(WASM_EMPTY);
  const shared = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
  const plain = new WebAssembly.Memory({ initial: 1 });
  t.logTry('post(module)', () => port1.postMessage(mod));
  t.logTry('post(shared memory buffer)', () => port1.postMessage(shared.buffer));
  t.logTry('post(shared Memory object)', () => port1.postMessage(shared));
  t.logTry('post(non-shared Memory object)', () => port1.postMessage(plain));
  t.logTry('post(non-shared memory buffer)', () => port1.postMessage(plain.buffer));
  await t.turns();
  t.log('received count', got.length);
  for (const m of got) {
    const tag = Object.prototype.toString.call(m);
    const detail = {
      tag,
      isModule: m instanceof WebAssembly.Module,
      isMemory: m instanceof WebAssembly.Memory,
      isSAB: m instanceof SharedArrayBuffer,
      byteLength: m && typeof m.byteLength === 'number' ? m.byteLength : null,
    };
    t.raw('received', detail);
    if (m instanceof WebAssembly.Module) t.log('instantiable', new WebAssembly.Instance(m) instanceof WebAssembly.Instance);
    if (m instanceof SharedArrayBuffer) {
      new Uint8Array(m)[0] = 99;
      t.log('sender memory sees the write', new Uint8Array(shared.buffer)[0]);
    }
  }
});

scenario('SharedArrayBuffer shared with a worker through a port', [27, 62], async (t) => {
  const { port1, port2 } = t.channel();
  const sab = new SharedArrayBuffer(8);
  const view = new Int32Array(sab);
  const w = t.agent(({ port }) => {
    port.on('message', (m) => {
      if (m instanceof SharedArrayBuffer) {
        const v = new Int32Array(m);
        const seen = v[0];
        Atomics.store(v, 1, 1234);
        port.postMessage({ seen });
      } else {
        port.postMessage({ unexpected: Object.prototype.toString.call(m) });
      }
      port.close();
    });
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  view[0] = 77;
  const got = t.next(port1, 5000);
  const posted = t.logTry('post(sab)', () => port1.postMessage(sab));
  if (posted.threw) return;
  t.log('worker replied', await got);
  t.log('parent sees the worker write', Atomics.load(view, 1));
  await exited;
});

scenario('ArrayBuffer transferred to a worker and back', [26, 62], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.agent(({ port }) => {
    port.on('message', (ab) => {
      const u8 = new Uint8Array(ab);
      for (let i = 0; i < u8.length; i++) u8[i] += 1;
      port.postMessage(ab, [ab]);
      port.close();
    });
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  const ab = new Uint8Array([1, 2, 3]).buffer;
  const got = t.next(port1, 5000);
  port1.postMessage(ab, [ab]);
  t.log('sender byteLength', ab.byteLength);
  t.log('back from worker', await got);
  await exited;
});

scenario('large payloads through a worker and back (4 MiB typed array, 1 MiB string, 10000-entry Map)', [19, 62], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.agent(({ port }) => {
    let n = 0;
    port.on('message', (v) => {
      port.postMessage(v);
      if (++n === 3) port.close();
    });
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  const big = new Uint8Array(4 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
  const str = 'λx'.repeat(1 << 19);
  const map = new Map(Array.from({ length: 10000 }, (_, i) => [i, { i, s: String(i) }]));
  const got = [];
  const done = new Promise((resolve) => {
    port1.on('message', (v) => {
      got.push(v);
      if (got.length === 3) resolve();
    });
    port1.on('close', resolve);
  });
  port1.postMessage(big);
  port1.postMessage(str);
  port1.postMessage(map);
  await done;
  t.log('typed array', got[0]);
  t.log('string', got[1]);
  t.log('map size and sample', got[2] && got[2].size, got[2] && got[2].get(9999));
  await exited;
});
