'use strict';
// NODE_SEMANTICS.md section 9: ordering (FIFO, across transfers and threads),
// delivery timing relative to ticks/microtasks/timers/immediates, draining
// between messages, anti-starvation, unbounded queues.
const scenario = require('../harness/define')(module);

scenario('FIFO per direction with interleaved traffic both ways', [54], async (t) => {
  const { port1, port2 } = t.channel();
  const a = [];
  const b = [];
  port1.on('message', (v) => a.push(v));
  port2.on('message', (v) => b.push(v));
  for (let i = 0; i < 1000; i++) {
    port1.postMessage(i);
    port2.postMessage(-i);
  }
  for (let i = 0; i < 10 && (a.length < 1000 || b.length < 1000); i++) await t.turns(1);
  t.log('port2 received in order', b.length, b.every((v, i) => v === i));
  t.log('port1 received in order', a.length, a.every((v, i) => Object.is(v, -i)));
});

scenario('messages queued on a port before its transfer arrive first at the new owner', [54, 60], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  q.port2.postMessage('before 1');
  q.port2.postMessage('before 2');
  port1.postMessage(q.port1, [q.port1]);
  q.port2.postMessage('during transfer');
  const received = t.track(await t.next(port2), 'received q1');
  q.port2.postMessage('after receipt');
  received.on('message', (v) => t.log('new owner got', v));
  await t.turns();
  q.port2.postMessage('after listening');
  await t.turns();
});

scenario('multi-hop transfer of a never-started port keeps order', [54], async (t) => {
  const q = t.channel('q1', 'q2');
  const hops = [t.channel('h1a', 'h1b'), t.channel('h2a', 'h2b'), t.channel('h3a', 'h3b')];
  let current = q.port1;
  let n = 0;
  q.port2.postMessage(`m${n++}`);
  for (const [i, hop] of hops.entries()) {
    hop.port1.postMessage({ p: current }, [current]);
    q.port2.postMessage(`m${n++}`);
    const got = await t.next(hop.port2);
    current = t.track(got.p, `q1 after hop ${i + 1}`);
    q.port2.postMessage(`m${n++}`);
  }
  const seen = [];
  current.on('message', (v) => seen.push(v));
  await t.turns();
  t.log('final owner got', seen);
});

scenario('multi-hop with synchronous receiveMessageOnPort at each hop', [54, 52], async (t) => {
  const q = t.channel('q1', 'q2');
  const hops = [t.channel('h1a', 'h1b'), t.channel('h2a', 'h2b')];
  let current = q.port1;
  q.port2.postMessage('x0');
  for (const [i, hop] of hops.entries()) {
    hop.port1.postMessage(current, [current]);
    q.port2.postMessage(`x${i + 1}`);
    const r = t.impl.receiveMessageOnPort(hop.port2);
    current = t.track(r && r.message, `q1 hop ${i + 1}`);
    if (!current) {
      t.log('hop failed', r);
      return;
    }
  }
  q.port2.postMessage('x3');
  const all = [];
  for (let r; (r = t.impl.receiveMessageOnPort(current)); ) all.push(r.message);
  t.log('drained synchronously', all);
  await t.turns();
  for (let r; (r = t.impl.receiveMessageOnPort(current)); ) all.push(r.message);
  t.log('after turns', all);
});

scenario('both ports of a channel transferred one after the other keep order', [54], async (t) => {
  const q = t.channel('q1', 'q2');
  const A = t.channel('A1', 'A2');
  const B = t.channel('B1', 'B2');
  q.port1.postMessage('1->2 before any transfer');
  q.port2.postMessage('2->1 before any transfer');
  A.port1.postMessage(q.port1, [q.port1]);
  q.port2.postMessage('2->1 after q1 left');
  B.port1.postMessage(q.port2, [q.port2]);
  const n1 = t.track(await t.next(A.port2), 'new q1');
  const n2 = t.track(await t.next(B.port2), 'new q2');
  n1.postMessage('1->2 from the new q1');
  n2.postMessage('2->1 from the new q2');
  const got1 = [];
  const got2 = [];
  n1.on('message', (v) => got1.push(v));
  n2.on('message', (v) => got2.push(v));
  await t.turns();
  t.log('new q1 got', got1);
  t.log('new q2 got', got2);
});

scenario('outgoing messages sent before a transfer are delivered before those sent after', [54], async (t) => {
  const q = t.channel('q1', 'q2');
  const A = t.channel('A1', 'A2');
  const seen = [];
  q.port2.on('message', (v) => seen.push(v));
  q.port1.postMessage('from old q1 (1)');
  q.port1.postMessage('from old q1 (2)');
  A.port1.postMessage(q.port1, [q.port1]);
  const n1 = t.track(await t.next(A.port2), 'new q1');
  n1.postMessage('from new q1');
  await t.turns();
  t.log('q2 saw', seen);
});

scenario('a transferred port stays entangled both ways', [54, 55], async (t) => {
  const q = t.channel('q1', 'q2');
  const A = t.channel('A1', 'A2');
  A.port1.postMessage(q.port1, [q.port1]);
  const n1 = t.track(await t.next(A.port2), 'new q1');
  t.log('new object', n1 !== q.port1);
  const g1 = t.next(q.port2);
  n1.postMessage('ping');
  t.log('q2 got', await g1);
  const g2 = t.next(n1);
  q.port2.postMessage('pong');
  t.log('new q1 got', await g2);
});

scenario('order is kept for a port handed to a worker while messages are in flight', [54, 62], async (t) => {
  const { port1, port2 } = t.channel();
  for (let i = 0; i < 100; i++) port1.postMessage(i);
  const w = t.agent(({ port }) => {
    const got = [];
    port.on('message', (v) => {
      if (v === 'end') {
        port.postMessage(got);
        port.close();
        return;
      }
      got.push(v);
    });
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  for (let i = 100; i < 300; i++) port1.postMessage(i);
  port1.postMessage('end');
  const got = await t.next(port1, 5000);
  t.log('worker received in order', Array.isArray(got) && got.length, Array.isArray(got) && got.every((v, i) => v === i));
  await exited;
});

scenario('a port sent to a worker through another port keeps its queue and order', [54, 62], async (t) => {
  const ctl = t.channel('ctl1', 'ctl2');
  const q = t.channel('q1', 'q2');
  const w = t.agent(({ port }) => {
    port.once('message', ({ p }) => {
      const got = [];
      p.on('message', (v) => {
        got.push(v);
        if (v === 'last') {
          p.postMessage(got);
          p.close();
          port.close();
        }
      });
    });
  }, ctl.port2);
  const exited = t.when(w, 'exit', 5000);
  q.port2.postMessage('queued 1');
  q.port2.postMessage('queued 2');
  t.logTry('send q1 to the worker inside a message', () => ctl.port1.postMessage({ p: q.port1 }, [q.port1]));
  for (let i = 0; i < 50; i++) q.port2.postMessage(i);
  q.port2.postMessage('last');
  t.log('worker saw', await t.next(q.port2, 5000));
  await exited;
});

scenario('echo through a worker keeps order for 2000 messages', [54, 62], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.agent(({ port }) => {
    port.on('message', (v) => {
      port.postMessage(v);
      if (v === 1999) port.close();
    });
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  const got = [];
  const done = new Promise((resolve) => {
    port1.on('message', (v) => {
      got.push(v);
      if (v === 1999) resolve();
    });
    port1.on('close', resolve);
  });
  for (let i = 0; i < 2000; i++) port1.postMessage(i);
  await done;
  t.log('echoed in order', got.length, got.every((v, i) => v === i));
  await exited;
});

// ---- timing ----

scenario('delivery is never synchronous', [56], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => t.log('message', v));
  port1.postMessage(1);
  t.log('after postMessage (sync)');
  await null;
  t.log('after a microtask');
  await t.turns();
});

scenario.isolated('posting from the main script: ticks, microtasks, timeout(0), messages, immediate', [56, 57], (t) => {
  const { port1, port2 } = new t.impl.MessageChannel();
  port2.on('message', (v) => {
    t.log('message', v);
    if (v === 2) port2.close();
  });
  setTimeout(() => t.log('setTimeout 0'), 0);
  setImmediate(() => t.log('setImmediate'));
  process.nextTick(() => t.log('nextTick'));
  Promise.resolve().then(() => t.log('microtask'));
  port1.postMessage(1);
  port1.postMessage(2);
  t.log('sync');
  // Make sure the 1 ms timer is due when the loop starts (as when the main
  // script takes a while), so the order does not depend on timing.
  const until = Date.now() + 5;
  while (Date.now() < until);
});

// NODE_SEMANTICS.md measured the message before setTimeout(0) here; that
// depends on whether 1 ms has elapsed. The timer is made due (t.spin) so that
// the order is deterministic: timer, then the message, then the next immediate.
scenario('posting from inside setImmediate: order against the next immediate and a due timeout(0)', [56], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => t.log('message', v));
  await new Promise((resolve) => {
    setImmediate(() => {
      setTimeout(() => t.log('setTimeout 0'), 0);
      t.spin(); // the timer is due at the next timers phase
      setImmediate(() => {
        t.log('next setImmediate');
        setTimeout(resolve, 5);
      });
      port1.postMessage('from immediate');
      t.log('posted');
    });
  });
});

scenario('posting from inside a timer callback', [56], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => t.log('message', v));
  await new Promise((resolve) => {
    setTimeout(() => {
      setImmediate(() => t.log('setImmediate'));
      setTimeout(() => {
        t.log('setTimeout 0 (next timers phase)');
        resolve();
      }, 0);
      t.spin(); // the new timer is due at the next timers phase
      port1.postMessage('from timer');
      process.nextTick(() => t.log('nextTick'));
    }, 1);
  });
  await t.turns();
});

scenario('messages to two ports: dispatch follows port creation order, not posting order', [56, 54], async (t) => {
  const X = t.channel('X1', 'X2');
  const Y = t.channel('Y1', 'Y2');
  X.port2.on('message', (v) => t.log('X2 got', v));
  Y.port2.on('message', (v) => t.log('Y2 got', v));
  Y.port1.postMessage('y1');
  X.port1.postMessage('x1');
  Y.port1.postMessage('y2');
  await t.turns();
});

scenario('a reply posted from a listener arrives in a later callback', [56, 57], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => {
    t.log('port2 got', v);
    port2.postMessage(`reply to ${v}`);
    process.nextTick(() => t.log('tick after', v));
  });
  port1.on('message', (v) => t.log('port1 got', v));
  setImmediate(() => t.log('immediate'));
  port1.postMessage('a');
  port1.postMessage('b');
  await t.turns();
});

scenario('nextTicks and microtasks are drained between every two messages', [57], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => {
    t.log(`msg${v}`);
    process.nextTick(() => {
      t.log(`tick${v}`);
      Promise.resolve().then(() => t.log(`micro-from-tick${v}`));
    });
    Promise.resolve().then(() => {
      t.log(`micro${v}`);
      process.nextTick(() => t.log(`tick-from-micro${v}`));
    });
    queueMicrotask(() => t.log(`queueMicrotask${v}`));
  });
  port2.on('message', (v) => t.log(`second listener msg${v}`));
  for (let i = 1; i <= 3; i++) port1.postMessage(i);
  await t.turns();
});

scenario('async listeners: awaits resume before the next message', [57], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', async (v) => {
    t.log(`start ${v}`);
    await null;
    t.log(`after await ${v}`);
    await new Promise((r) => process.nextTick(r));
    t.log(`after tick await ${v}`);
  });
  port1.postMessage(1);
  port1.postMessage(2);
  await t.turns();
});

scenario('EventTarget listeners are drained the same way', [57], async (t) => {
  const { port1, port2 } = t.channel();
  port2.onmessage = (e) => {
    t.log(`msg${e.data}`);
    process.nextTick(() => t.log(`tick${e.data}`));
    Promise.resolve().then(() => t.log(`micro${e.data}`));
  };
  for (let i = 1; i <= 3; i++) port1.postMessage(i);
  await t.turns();
});

scenario('messages from a worker: ticks and microtasks drained between every two messages', [57, 62], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.agent(({ port }) => {
    for (let i = 1; i <= 3; i++) port.postMessage(i);
    port.close();
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  const closed = t.when(port1, 'close', 5000);
  port1.on('message', (v) => {
    t.log(`msg${v}`);
    process.nextTick(() => t.log(`tick${v}`));
    Promise.resolve().then(() => t.log(`micro${v}`));
  });
  await closed;
  t.log('close');
  await exited;
});

scenario('a port handed from one worker to another (parent -> A -> B) keeps order', [54, 62], async (t) => {
  const q = t.channel('q1', 'q2');
  const ab = t.channel('ab1', 'ab2');
  const ctlA = t.channel('ctlA1', 'ctlA2');
  const B = t.agent(({ port }) => {
    port.once('message', ({ q }) => {
      const got = [];
      q.on('message', (v) => {
        got.push(v);
        if (v === 'last') {
          q.postMessage(got);
          q.close();
          port.close();
        }
      });
    });
  }, ab.port2);
  const A = t.agent(({ port }) => {
    port.once('message', ({ q, toB }) => {
      q.postMessage('A saw q1');
      toB.postMessage({ q }, [q]);
      toB.close();
      port.close();
    });
  }, ctlA.port2);
  const exitedA = t.when(A, 'exit', 5000);
  const exitedB = t.when(B, 'exit', 5000);
  q.port2.postMessage('queued 1');
  t.logTry('send q1 and the way to B to A', () => ctlA.port1.postMessage({ q: q.port1, toB: ab.port1 }, [q.port1, ab.port1]));
  for (let i = 0; i < 20; i++) q.port2.postMessage(i);
  q.port2.postMessage('last');
  const seen = [];
  const done = new Promise((resolve) => {
    q.port2.on('message', (v) => {
      seen.push(v);
      if (Array.isArray(v)) resolve();
    });
    q.port2.on('close', resolve);
  });
  await done;
  t.log('q2 saw', seen);
  await Promise.all([exitedA, exitedB]);
});

scenario('anti-starvation: an endless ping-pong does not block timers', [58], async (t) => {
  const { port1, port2 } = t.channel();
  let count = 0;
  await new Promise((resolve) => {
    port1.on('message', () => {
      if (count === 0) {
        setTimeout(() => {
          t.log('timer fired; iterations below 10000', count < 10000);
          port1.close();
          resolve();
        }, 0);
      }
      count++;
      if (count < 20000) port2.postMessage(0);
    });
    port2.postMessage(0);
  });
});

scenario('anti-starvation: a self-sustaining queue yields after 1000 messages', [58], async (t) => {
  const { port1, port2 } = t.channel();
  let n = 0;
  await new Promise((resolve) => {
    port2.on('message', () => {
      n++;
      if (n < 3000) port1.postMessage(n);
      else resolve();
    });
    setImmediate(() => t.log('setImmediate ran after messages', n));
    port1.postMessage(0);
  });
  await t.turns();
});

scenario('anti-starvation: a backlog larger than 1000 is processed in one wake-up', [58], async (t) => {
  const { port1, port2 } = t.channel();
  let n = 0;
  port2.on('message', () => {
    n++;
  });
  for (let i = 0; i < 3000; i++) port1.postMessage(i);
  await new Promise((resolve) => {
    setImmediate(() => {
      t.log('setImmediate ran after messages', n);
      resolve();
    });
  });
  await t.turns();
  t.log('total', n);
});

scenario('anti-starvation: backlog of 500 plus re-posting stops at 1000', [58], async (t) => {
  const { port1, port2 } = t.channel();
  let n = 0;
  await new Promise((resolve) => {
    port2.on('message', () => {
      n++;
      if (n < 2500) port1.postMessage(n);
      else resolve();
    });
    for (let i = 0; i < 500; i++) port1.postMessage(i);
    setImmediate(() => t.log('setImmediate ran after messages', n));
  });
  await t.turns();
});

scenario('anti-starvation: a backlog of 1500 plus re-posting stops at 1500', [58], async (t) => {
  const { port1, port2 } = t.channel();
  let n = 0;
  await new Promise((resolve) => {
    port2.on('message', () => {
      n++;
      if (n < 4000) port1.postMessage(n);
      else resolve();
    });
    for (let i = 0; i < 1500; i++) port1.postMessage(i);
    setImmediate(() => t.log('setImmediate ran after messages', n));
  });
  await t.turns();
});

scenario('the queue is unbounded: 100000 messages to an unstarted port', [59, 36], async (t) => {
  const { port1, port2 } = t.channel();
  let allTrue = true;
  for (let i = 0; i < 100000; i++) allTrue = port1.postMessage({ i, pad: 'x'.repeat(50) }) === true && allTrue;
  t.log('every postMessage returned true', allTrue);
  let count = 0;
  let ordered = true;
  await new Promise((resolve) => {
    port2.on('message', (m) => {
      if (m.i !== count) ordered = false;
      count++;
      if (count === 100000) resolve();
    });
  });
  t.log('received', count, 'in order', ordered);
});

scenario('large messages interleaved with small ones keep order', [54, 59], async (t) => {
  const { port1, port2 } = t.channel();
  const got = [];
  port2.on('message', (m) => got.push(typeof m === 'string' ? m : `big:${m.byteLength}`));
  port1.postMessage('small 1');
  port1.postMessage(new Uint8Array(8 << 20));
  port1.postMessage('small 2');
  port1.postMessage('y'.repeat(3 << 20).slice(0, 5));
  port1.postMessage(new Uint8Array(100));
  for (let i = 0; i < 10 && got.length < 5; i++) await t.turns(1);
  t.log('order', got);
});
