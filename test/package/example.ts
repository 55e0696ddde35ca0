// The README example in TypeScript: the package's types must resolve.
import { MessageChannel, MessagePort, receiveMessageOnPort, detachPort, attachPort, type DetachedPort } from 'ringport';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

if (isMainThread) {
  const { port1, port2 }: { port1: MessagePort; port2: MessagePort } = new MessageChannel();
  port2.on('message', (value: { hello: string }) => {
    console.log('same thread:', JSON.stringify(value));
    port2.close();
  });
  port1.postMessage({ hello: 'world' });
  const none: { message: unknown } | undefined = receiveMessageOnPort(port1);
  if (none !== undefined) throw new Error('unexpected message');

  const { port1: a, port2: b } = new MessageChannel({ batch: false });
  const handle: DetachedPort = detachPort(b);
  new Worker(__filename, { workerData: { port: handle } });
  a.on('message', (value: string) => {
    console.log('from worker:', value);
    a.close();
  });
} else {
  const port: MessagePort = attachPort((workerData as { port: DetachedPort }).port);
  port.postMessage('hi');
  port.close();
}
