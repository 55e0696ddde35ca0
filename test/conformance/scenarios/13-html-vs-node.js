'use strict';
// NODE_SEMANTICS.md section 13: where Node deliberately differs from the HTML
// spec / WPT (the Node behaviour is what must be matched). Most items are
// also exercised by the section-specific files (tags 69-74 there).
const scenario = require('../harness/define')(module);

scenario('WPT no-start: addEventListener alone delivers in Node (browsers need start())', [69, 37], async (t) => {
  const { port1, port2 } = t.channel();
  port2.addEventListener('message', (e) => t.log('delivered without start()', e.data));
  port1.postMessage('x');
  await t.turns();
});

scenario('WPT: event.ports is a mutable array, isTrusted is false, origin is empty, source null', [71, 29], async (t) => {
  const { port1, port2 } = t.channel();
  const q = t.channel('q1', 'q2');
  const e = await new Promise((resolve) => {
    port2.addEventListener('message', resolve, { once: true });
    port1.postMessage('x', [q.port1]);
  });
  t.track(e.ports[0], 'received q1');
  t.log('frozen', Object.isFrozen(e.ports), 'isTrusted', e.isTrusted, 'origin', e.origin, 'source', e.source);
  t.log('bubbles, cancelable', e.bubbles, e.cancelable);
});

scenario('WPT: a transfer list containing the target port: nothing delivered (Node also warns)', [70, 16], async (t) => {
  const { port1, port2 } = t.channel();
  port2.onmessage = (e) => t.log('delivered (should not be)', e.data);
  t.logTry('post', () => port1.postMessage('to myself', [port2]));
  await t.turns();
});

scenario('WPT: serialize-with-transfer runs even without a target (closed sender)', [70, 18], (t) => {
  const { port1 } = t.channel();
  port1.close();
  const ab = new ArrayBuffer(4);
  t.logTry('closed sender, ab in list', () => port1.postMessage(ab, [ab]));
  t.log('detached', ab.byteLength);
  t.logTry('closed sender, uncloneable', () => port1.postMessage(Symbol('s')));
});

scenario('WPT: inflight messages before close are delivered; close fires on the other side (Node: both)', [72, 44, 33], async (t) => {
  const { port1, port2 } = t.channel();
  port2.onmessage = (e) => t.log('message', e.data);
  port2.addEventListener('close', () => t.log('port2 close'));
  port1.addEventListener('close', () => t.log('port1 close'));
  port1.postMessage('inflight');
  port1.close();
  t.log("'onclose' in port", 'onclose' in port2);
  await t.turns();
});

scenario('Node-only extras are present', [74], (t) => {
  const { port1 } = t.channel();
  t.log('methods', ['ref', 'unref', 'hasRef', 'on', 'once', 'off', 'emit', 'addListener', 'removeListener', 'removeAllListeners', 'listenerCount', 'eventNames', 'setMaxListeners', 'getMaxListeners'].map((m) => typeof port1[m]));
  t.log('postMessage returns a boolean', typeof port1.postMessage(1));
  t.log('close(cb) takes a callback', port1.close.length);
  t.log('receiveMessageOnPort', typeof t.impl.receiveMessageOnPort);
});
