'use strict';
// NODE_SEMANTICS.md section 10: transferring ports (same thread and across
// threads), and the identity of received ports (item 55).
const scenario = require('../harness/define')(module);

scenario('transferring a port detaches the sender-side object; it gets close later', [60, 33], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port1.on('message', (v) => t.log('old q1 listener got (should not)', v));
  q.port1.on('close', () => t.log('old q1 close'));
  q.port2.on('close', () => t.log('q2 close (should not)'));
  t.log('hasRef before', q.port1.hasRef());
  port1.postMessage({ q: q.port1 }, [q.port1]);
  t.log('hasRef right after', q.port1.hasRef());
  t.log('postMessage on old q1', q.port1.postMessage('x'));
  t.logTry('transfer again', () => port1.postMessage(null, [q.port1]));
  t.log('listenerCount on old q1', q.port1.listenerCount('message'));
  const got = await t.next(port2);
  t.track(got.q, 'new q1');
  q.port2.postMessage('to q1');
  await t.turns();
  t.log('hasRef later', q.port1.hasRef());
  t.log('new q1 has it queued', t.impl.receiveMessageOnPort(got.q));
});

scenario('a received port is a new object: unstarted and unref\'d even if the old one listened', [55, 60], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port1.on('message', () => {});
  q.port1.ref();
  port1.postMessage(q.port1, [q.port1]);
  const r = t.track(await t.next(port2), 'new q1');
  t.log('!== sent object', r !== q.port1);
  t.log('instanceof MessagePort', r instanceof t.impl.MessagePort);
  t.log('hasRef', r.hasRef(), 'listenerCount', r.listenerCount('message'));
  t.log('eventNames', r.eventNames());
  t.log('own string keys', Object.keys(r));
  q.port2.postMessage('queued');
  await t.turns();
  t.log('not started: still queued', t.impl.receiveMessageOnPort(r));
});

scenario('event.ports and the value refer to the same new port objects', [61, 29], async (t) => {
  const { port1, port2 } = t.channel();
  const a = t.channel('a1', 'a2');
  const b = t.channel('b1', 'b2');
  const c = t.channel('c1', 'c2');
  const got = new Promise((resolve) => port2.addEventListener('message', resolve, { once: true }));
  port1.postMessage(
    { map: new Map([['k', a.port1]]), set: new Set([b.port1]), nested: [[a.port1]] },
    [c.port1, b.port1, a.port1],
  );
  const e = await got;
  t.log('ports length', e.ports.length);
  t.log('ports[2] === map value', e.ports[2] === e.data.map.get('k'));
  t.log('ports[1] === set member', e.ports[1] === [...e.data.set][0]);
  t.log('nested identity', e.data.nested[0][0] === e.data.map.get('k'));
  t.log('ports[0] (only in the transfer list) is a port', e.ports[0] instanceof t.impl.MessagePort);
  e.ports.forEach((p, i) => t.track(p, `received ${['c1', 'b1', 'a1'][i]}`));
  const g = t.next(c.port2);
  e.ports[0].postMessage('through c');
  t.log('c2 got', await g);
});

scenario('a port only in the transfer list: Node-style listeners cannot see it', [61, 30], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port2.on('close', () => t.log('q2 close'));
  port2.on('message', (v) => t.log('node-style got', v));
  port1.postMessage('just data', [q.port1]);
  await t.turns();
  t.log('q2 postMessage', q.port2.postMessage('anyone?'));
  await t.turns();
});

scenario('several ports in one message keep their order and entanglement', [61, 54], async (t) => {
  const { port1, port2 } = t.channel();
  const chans = [0, 1, 2, 3].map((i) => t.channel(`x${i}a`, `x${i}b`));
  port1.postMessage(chans.map((c) => c.port1), chans.map((c) => c.port1));
  const list = await t.next(port2);
  list.forEach((p, i) => t.track(p, `received x${i}a`));
  const seen = [];
  await Promise.all(
    chans.map((c, i) => {
      const g = t.next(c.port2);
      list[i].postMessage(`via ${i}`);
      return g.then((v) => seen.push(v));
    }),
  );
  t.log('each peer got its own', seen.sort());
});

scenario('transferring a port whose peer closed with data pending', [60, 44], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port2.postMessage('last words');
  q.port2.close();
  await t.turns();
  t.log('q1 postMessage before transfer', q.port1.postMessage('x'));
  t.logTry('transfer q1', () => port1.postMessage(q.port1, [q.port1]));
  const r = await t.next(port2);
  if (!(r instanceof t.impl.MessagePort)) {
    t.log('received', r);
    return;
  }
  t.track(r, 'new q1');
  r.on('message', (v) => t.log('new q1 got', v));
  r.on('close', () => t.log('new q1 close'));
  await t.turns();
});

scenario('transferring a port whose peer closed with nothing pending', [60, 44], async (t) => {
  const { port1 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port1.on('close', () => t.log('q1 close'));
  q.port2.close();
  await t.turns();
  t.logTry('transfer q1', () => port1.postMessage(q.port1, [q.port1]));
});

scenario('a port inside a message that is never read closes when the carrier closes', [60, 45], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port2.on('close', () => t.log('q2 close'));
  port1.postMessage(q.port1, [q.port1]);
  port2.close();
  await t.turns(4);
  t.log('q2 postMessage', q.port2.postMessage('x'));
});

scenario('a port inside a message queued on a carrier that is transferred too', [60, 54], async (t) => {
  const carrier = t.channel('c1', 'c2');
  const outer = t.channel('o1', 'o2');
  const q = t.channel('q1', 'q2');
  carrier.port1.postMessage({ q: q.port1 }, [q.port1]);
  outer.port1.postMessage(carrier.port2, [carrier.port2]);
  const c2 = t.track(await t.next(outer.port2), 'new c2');
  const m = await t.next(c2);
  const q1 = t.track(m.q, 'new q1');
  const g = t.next(q.port2);
  q1.postMessage('through two levels');
  t.log('q2 got', await g);
});

scenario('100 ports in one message', [61, 60], async (t) => {
  const { port1, port2 } = t.channel();
  const chans = Array.from({ length: 100 }, (_, i) => t.channel(`m${i}a`, `m${i}b`));
  const list = chans.map((c) => c.port1);
  chans.forEach((c, i) => c.port2.postMessage(i));
  port1.postMessage(list, list);
  const got = await t.next(port2);
  got.forEach((p, i) => t.track(p, `received m${i}a`));
  const firsts = got.map((p) => {
    const r = t.impl.receiveMessageOnPort(p);
    return r && r.message;
  });
  t.log('each received port has its own queued message', firsts.every((v, i) => v === i), firsts.length);
});

scenario('2000 channels with one message each', [36, 50], (t) => {
  const chans = [];
  for (let i = 0; i < 2000; i++) {
    const c = new t.impl.MessageChannel();
    c.port1.postMessage(i);
    chans.push(c);
  }
  let ok = true;
  chans.forEach((c, i) => {
    const r = t.impl.receiveMessageOnPort(c.port2);
    if (!r || r.message !== i) ok = false;
    c.port1.close();
  });
  t.log('all received', ok);
});

scenario('a port sent back to the parent from a worker (created in the worker)', [62, 54], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.agent(({ port, impl }) => {
    const { port1: a, port2: b } = new impl.MessageChannel();
    b.on('message', (v) => {
      b.postMessage(`worker echo: ${v}`);
      if (v === 'bye') {
        b.close();
        port.close();
      }
    });
    a.postMessage('queued by the worker before transfer');
    port.postMessage({ a }, [a]);
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  const m = await t.next(port1, 5000);
  if (!m || !m.a) {
    t.log('received', m);
    return;
  }
  const a = t.track(m.a, 'port from worker');
  const seen = [];
  const done = new Promise((resolve) => {
    a.on('message', (v) => {
      seen.push(v);
      if (v === 'worker echo: bye') resolve();
    });
    a.on('close', resolve);
  });
  a.postMessage('hello');
  a.postMessage('bye');
  await done;
  t.log('seen', seen);
  await exited;
});

scenario('a port making a round trip parent -> worker -> parent keeps its queue', [62, 54], async (t) => {
  const ctl = t.channel('ctl1', 'ctl2');
  const q = t.channel('q1', 'q2');
  const w = t.agent(({ port }) => {
    port.once('message', (m) => {
      m.q.postMessage('from worker via q1');
      port.postMessage({ q: m.q }, [m.q]);
      port.close();
    });
  }, ctl.port2);
  const exited = t.when(w, 'exit', 5000);
  q.port2.postMessage('queued 1');
  ctl.port1.postMessage({ q: q.port1 }, [q.port1]);
  q.port2.postMessage('queued 2');
  const back = await t.next(ctl.port1, 5000);
  q.port2.postMessage('queued 3');
  const seen2 = [];
  q.port2.on('message', (v) => seen2.push(v));
  if (!back || !back.q) {
    t.log('received', back);
    return;
  }
  const q1 = t.track(back.q, 'q1 back home');
  const all = [];
  for (let r; (r = t.impl.receiveMessageOnPort(q1)); ) all.push(r.message);
  t.log('q1 queue after the round trip', all);
  await t.turns();
  t.log('q2 got', seen2);
  await exited;
});

// Ports through the worker APIs (item 62): Node's own Worker for node,
// ringport's Worker (whose messages and parentPort are ringport ports) for
// ringport, each with its own ports.
const IMPL_MODULE = require.resolve('../harness/impl');

scenario('a port in worker.postMessage(value, [port])', [62], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.implAgent(({ impl }) => {
    impl.parentPort.once('message', ({ p }) => {
      p.postMessage(`worker got a ${p && p.constructor && p.constructor.name}`);
      p.close();
    });
  });
  const exited = t.when(w, 'exit', 5000);
  t.logTry('worker.postMessage', () => w.postMessage({ p: port2 }, [port2]));
  t.log('reply', await t.next(port1, 3000));
  await exited;
});

scenario('a port in new Worker(file, { workerData, transferList })', [62], async (t) => {
  const { port1, port2 } = t.channel();
  const w = new t.impl.Worker(
    `const { workerData } = require(${JSON.stringify(IMPL_MODULE)}); workerData.p.postMessage('hi from workerData'); workerData.p.close();`,
    { eval: true, workerData: { p: port2 }, transferList: [port2] },
  );
  t.workers.add(w);
  t.log('reply', await t.next(port1, 3000));
});

scenario('a port sent from a worker through parentPort.postMessage', [62], async (t) => {
  const w = t.implAgent(({ impl }) => {
    const { port1, port2 } = new impl.MessageChannel();
    port1.postMessage('via a port from parentPort');
    impl.parentPort.postMessage({ p: port2 }, [port2]);
    port1.close();
  });
  const [m] = await t.when(w, 'message', 3000);
  t.log('received', m && m.p && m.p.constructor && m.p.constructor.name);
  if (m && m.p && typeof m.p.on === 'function') t.log('message', await t.next(m.p));
});
