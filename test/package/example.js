// The README example, as a user writes it in plain JavaScript.
const { MessageChannel, MessagePort, receiveMessageOnPort, detachPort, attachPort } = require('ringport');
const { Worker, isMainThread, workerData } = require('node:worker_threads');

if (isMainThread) {
  const { port1, port2 } = new MessageChannel();
  port2.on('message', (value) => {
    console.log('same thread:', JSON.stringify(value));
    port2.close();
  });
  port1.postMessage({ hello: 'world' });

  const { port1: a, port2: b } = new MessageChannel();
  new Worker(__filename, { workerData: { port: detachPort(b) } });
  a.on('message', (value) => {
    console.log('from worker:', value, a instanceof MessagePort, typeof receiveMessageOnPort);
    a.close();
  });
} else {
  const port = attachPort(workerData.port);
  port.postMessage('hi');
  port.close();
}
