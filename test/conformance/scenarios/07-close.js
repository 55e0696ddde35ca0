'use strict';
// NODE_SEMANTICS.md section 7: close() semantics, close markers, delivery of
// in-flight messages, GC, worker exit/termination.
const scenario = require('../harness/define')(module);

scenario('close() is synchronous, idempotent and returns undefined', [43], async (t) => {
  const { port1, port2 } = t.channel();
  port1.on('close', () => t.log('port1 close'));
  port2.on('close', () => t.log('port2 close'));
  t.log('close() returns', port1.close());
  t.log('second close() returns', port1.close());
  t.log('postMessage right after close()', port1.postMessage('x'));
  t.logTry('transfer right after close()', () => port2.postMessage(null, [port1]));
  t.log('sync end');
  await t.turns();
  t.log('close() after the event', port1.close());
  await t.turns();
});

scenario('close(callback): called once via a once("close") listener', [43], async (t) => {
  const { port1 } = t.channel();
  port1.close(function cb(...args) {
    t.log('cb args', args.length, args[0] && args[0].type, 'this is port', this === port1);
  });
  t.log('listenerCount(close)', port1.listenerCount('close'));
  t.logTry("close('not a function')", () => port1.close('not a function'));
  t.logTry('close(null)', () => port1.close(null));
  await t.turns();
  t.log('listenerCount(close) after', port1.listenerCount('close'));
});

scenario('messages posted before close() arrive before the peer\'s close event', [44, 47], async (t) => {
  const { port1, port2 } = t.channel();
  t.watch(port2, 'port2');
  port1.on('close', () => t.log('port1 close'));
  port1.postMessage(1);
  port1.postMessage(2);
  port1.postMessage(3);
  port1.close(() => t.log('port1 close cb'));
  await t.turns();
});

scenario('in-flight messages arrive even if the peer starts listening much later', [44], async (t) => {
  const { port1, port2 } = t.channel();
  port1.postMessage('a');
  port1.postMessage('b');
  port1.close();
  port2.on('close', () => t.log('port2 close'));
  await t.wait(50);
  t.log('port2.hasRef() before listening', port2.hasRef());
  t.log('port2.postMessage() before listening', port2.postMessage('back'));
  port2.on('message', (v) => t.log('port2 got', v));
  await t.turns();
});

scenario('an unstarted peer with no pending data closes by itself', [44], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('close', () => t.log('port2 close (never started)'));
  port1.close();
  await t.turns();
  t.log('port2.postMessage() after', port2.postMessage('x'));
  t.log('port2.hasRef()', port2.hasRef());
});

scenario('an unstarted peer with pending data stays open until started and drained', [44, 17], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('close', () => t.log('port2 close'));
  port1.postMessage('x');
  port1.close();
  await t.wait(20);
  t.log('port2.postMessage() with pending data', port2.postMessage('y'));
  t.log('port2.hasRef()', port2.hasRef());
  await t.wait(20);
  t.log('still no close event; starting now');
  port2.start();
  await t.turns();
  t.log('port2.postMessage() after start', port2.postMessage('z'));
});

scenario('receiveMessageOnPort drains the data, then processes the close marker', [44, 52], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('close', () => t.log('port2 close'));
  port1.postMessage('x');
  port1.close();
  await t.wait(20);
  t.log('receive 1', t.impl.receiveMessageOnPort(port2));
  t.log('receive 2 (close marker)', t.impl.receiveMessageOnPort(port2));
  t.log('postMessage after the marker', port2.postMessage('z'));
  t.log('receive 3', t.impl.receiveMessageOnPort(port2));
  await t.turns();
  t.log('receive 4 after close event', t.impl.receiveMessageOnPort(port2));
});

scenario('messages still queued for the closing port are discarded', [45], async (t) => {
  const { port1, port2 } = t.channel();
  port2.postMessage('queued for port1');
  port1.on('message', (v) => t.log('port1 got (should not)', v));
  port1.on('close', () => t.log('port1 close'));
  port1.close();
  await t.turns();
  t.log('receiveMessageOnPort(port1)', t.impl.receiveMessageOnPort(port1));
});

scenario('messages posted to a port after its close() are dropped', [45, 17], async (t) => {
  const { port1, port2 } = t.channel();
  port1.on('message', (v) => t.log('port1 got', v));
  port1.on('close', () => t.log('port1 close'));
  port2.on('close', () => t.log('port2 close'));
  port1.close();
  t.log('port2.postMessage right after peer close()', port2.postMessage('late'));
  await t.turns();
});

scenario('close() inside a message handler still delivers the rest of the batch', [46], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => {
    t.log('got', v);
    if (v === 1) {
      port2.close();
      t.log('closed in handler; hasRef', port2.hasRef());
      t.log('postMessage from handler after close()', port2.postMessage('reply'));
    }
  });
  port2.on('close', () => t.log('port2 close'));
  port1.on('close', () => t.log('port1 close'));
  port1.on('message', (v) => t.log('port1 got', v));
  for (let i = 1; i <= 5; i++) port1.postMessage(i);
  await t.turns();
  t.log('port1.postMessage after', port1.postMessage(6));
  await t.turns();
});

scenario('close() inside a handler: messages posted after the batch are not delivered', [46, 45], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => {
    t.log('got', v);
    if (v === 'first') {
      port2.close();
      setImmediate(() => t.log('postMessage in next immediate', port1.postMessage('later')));
    }
  });
  port2.on('close', () => t.log('port2 close'));
  port1.postMessage('first');
  port1.postMessage('second');
  await t.turns();
});

scenario('event order after port1.close(): port1 close, then port2 messages, then port2 close', [47, 33], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => {
    t.log('port2 message', v);
    process.nextTick(() => t.log('tick after', v));
  });
  port2.on('close', () => t.log('port2 close'));
  port1.on('close', () => t.log('port1 close'));
  setImmediate(() => t.log('immediate'));
  port1.postMessage('m1');
  port1.postMessage('m2');
  port1.close(() => t.log('port1 close(cb)'));
  t.log('sync');
  await t.turns();
});

scenario('both ports closed in the same tick', [43, 47], async (t) => {
  const { port1, port2 } = t.channel();
  port1.on('close', () => t.log('port1 close'));
  port2.on('close', () => t.log('port2 close'));
  port2.on('message', (v) => t.log('port2 got', v));
  port1.postMessage('x');
  port1.close();
  port2.close();
  await t.turns();
});

scenario('closing the receiving side while the peer has queued messages for it', [45, 47], async (t) => {
  const { port1, port2 } = t.channel();
  port2.on('message', (v) => t.log('port2 got', v));
  port1.on('close', () => t.log('port1 close'));
  port2.on('close', () => t.log('port2 close'));
  port1.postMessage('a');
  port1.postMessage('b');
  port2.close();
  t.log('port1.postMessage after peer close()', port1.postMessage('c'));
  await t.turns();
});

scenario.isolated('a port is never closed by garbage collection', [48, 72, 73], async (t) => {
  const gc = global.gc;
  let finalized = 0;
  const registry = new FinalizationRegistry(() => {
    finalized++;
  });
  const keep = [];
  for (let i = 0; i < 200; i++) {
    const { port1, port2 } = new t.impl.MessageChannel();
    registry.register(port1, i);
    registry.register(port2, i);
    if (i < 5) {
      port2.on('close', () => t.log('close fired on a kept port (should not)'));
      keep.push(port2);
    }
  }
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  t.log('finalized port objects', finalized);
  t.log('kept ports hasRef', keep.map((p) => p.hasRef()));
  t.log('kept ports can still post', keep.map((p) => p.postMessage('x')));
}, { flags: ['--expose-gc'] });

scenario.isolated('a listening port whose peer object is unreachable keeps the process alive', [48, 40], (t) => {
  setTimeout(() => {
    t.log('still alive after 300 ms');
    process.exit(0);
  }, 300).unref();
  (() => {
    const { port2 } = new t.impl.MessageChannel();
    port2.on('message', () => {});
    port2.on('close', () => t.log('close (should not)'));
  })();
  global.gc();
  setTimeout(() => global.gc(), 50).unref();
}, { flags: ['--expose-gc'] });

// ---- worker exit / termination ----

scenario('a worker that ends naturally closes its ports: the peer gets close', [49, 33], async (t) => {
  const { port1, port2 } = t.channel();
  port1.on('message', (v) => t.log('from worker', v));
  const closed = t.when(port1, 'close', 5000);
  const w = t.agent(({ port }) => {
    port.postMessage('a');
    port.postMessage('b');
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  await closed;
  t.log('port1 close');
  t.log('exit code', (await exited)[0]);
  t.log('postMessage to the gone worker', port1.postMessage('x'));
});

scenario('a worker calling process.exit(): messages it sent arrive, then close', [49], async (t) => {
  const { port1, port2 } = t.channel();
  port1.on('message', (v) => t.log('from worker', v));
  const closed = t.when(port1, 'close', 5000);
  const w = t.agent(({ port }) => {
    port.postMessage('before exit');
    process.exit(3);
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  await closed;
  t.log('port1 close');
  t.log('exit code', (await exited)[0]);
});

scenario('worker.terminate(): the peer gets close; messages queued towards the worker are dropped', [49], async (t) => {
  const { port1, port2 } = t.channel();
  const w = t.agent(({ port, wt }) => {
    // Never listens: everything the parent posts stays queued here.
    wt.parentPort.postMessage('ready');
    setInterval(() => {}, 1000);
    void port;
  }, port2);
  await t.when(w, 'message', 5000);
  for (let i = 0; i < 5; i++) port1.postMessage(i);
  const closed = t.when(port1, 'close', 5000);
  t.log('terminate resolves', await w.terminate());
  await closed;
  t.log('port1 close');
  t.log('postMessage after', port1.postMessage('x'));
  // (No receiveMessageOnPort(port1) here: on a port closed by the peer
  // worker's termination, Node v20.20.2 intermittently segfaults in
  // MessagePort::ReceiveMessage, the bug of item 53.)
});

scenario('a worker throwing an uncaught error: error event, then the peer gets close', [49], async (t) => {
  const { port1, port2 } = t.channel();
  const closed = t.when(port1, 'close', 5000);
  const w = t.agent(({ port }) => {
    port.postMessage('about to throw');
    throw new RangeError('worker failure');
  }, port2);
  const errored = t.when(w, 'error', 5000);
  port1.on('message', (v) => t.log('from worker', v));
  await closed;
  t.log('port1 close');
  const [err] = await errored;
  t.log('worker error', err);
});

scenario('a port that reached a worker through another port closes when the worker exits', [49, 54, 62], async (t) => {
  const { port1, port2 } = t.channel('ctl1', 'ctl2');
  const d = t.channel('d1', 'd2');
  const w = t.agent(({ port }) => {
    port.once('message', (m) => {
      m.p.postMessage('hello from the worker through d1');
      port.close();
    });
  }, port2);
  const exited = t.when(w, 'exit', 5000);
  d.port2.on('message', (v) => t.log('d2 got', v));
  const closed = t.when(d.port2, 'close', 5000);
  port1.postMessage({ p: d.port1 }, [d.port1]);
  await closed;
  t.log('d2 close');
  t.log('exit code', (await exited)[0]);
});

scenario('a worker that closes its port explicitly and keeps running', [43, 49], async (t) => {
  const { port1, port2 } = t.channel();
  const closed = t.when(port1, 'close', 5000);
  const w = t.agent(({ port, wt }) => {
    port.postMessage('last');
    port.close();
    setTimeout(() => wt.parentPort.postMessage('still running'), 50);
  }, port2);
  const said = t.when(w, 'message', 5000);
  const exited = t.when(w, 'exit', 5000);
  port1.on('message', (v) => t.log('port1 got', v));
  await closed;
  t.log('port1 close');
  t.log('worker says', (await said)[0]);
  await exited;
});
