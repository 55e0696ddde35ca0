// close() and liveness, run on both implementations: event order, what is
// delivered, and whether the process stays alive.
import * as wt from 'node:worker_threads';
import { MessageChannel, receiveMessageOnPort } from '..';
import { runScript, turns } from './helpers';

type AnyPort = any;
type Impl = { MessageChannel: new () => { port1: AnyPort; port2: AnyPort }; receiveMessageOnPort: (p: AnyPort) => any };
const impls: [string, Impl][] = [
  ['node:worker_threads', wt as unknown as Impl],
  ['ringport', { MessageChannel, receiveMessageOnPort } as unknown as Impl],
];

async function closeOrder(impl: Impl): Promise<string[]> {
  const log: string[] = [];
  const { port1, port2 } = new impl.MessageChannel();
  port2.on('message', (v: unknown) => log.push(`port2 message ${v}`));
  port1.on('close', () => log.push('port1 close'));
  port2.on('close', () => log.push('port2 close'));
  port1.postMessage('a');
  port1.postMessage('b');
  port1.close(() => log.push('close callback'));
  port1.close(); // idempotent
  log.push(`hasRef after close: ${port1.hasRef()}`);
  log.push(`post after close: ${port1.postMessage('c')}`);
  setImmediate(() => log.push('immediate'));
  await turns(6);
  log.push(`hasRef at the end: ${port1.hasRef()} ${port2.hasRef()}`);
  return log;
}

async function closeInHandler(impl: Impl): Promise<string[]> {
  const log: string[] = [];
  const { port1, port2 } = new impl.MessageChannel();
  port2.on('message', (v: unknown) => {
    log.push(`message ${v}`);
    if (v === 1) port2.close();
  });
  port2.on('close', () => log.push('close'));
  for (let i = 1; i <= 5; i++) port1.postMessage(i);
  await turns(6);
  return log;
}

async function unstartedPeer(impl: Impl): Promise<string[]> {
  const log: string[] = [];
  const { port1, port2 } = new impl.MessageChannel();
  port2.on('close', () => log.push('port2 close'));
  port1.postMessage('x');
  port1.close();
  await turns(4);
  log.push(`alone: ${port2.postMessage('y')}`);
  port2.on('message', (v: unknown) => log.push(`message ${v}`));
  await turns(4);
  return log;
}

test.each([
  ['close order', closeOrder],
  ['close() inside a handler delivers the rest of the batch', closeInHandler],
  ['messages sent before close reach an unstarted peer before its close', unstartedPeer],
])('%s: same as Node', async (_, scenario) => {
  // Both start from the same loop phase (inside a timer callback's microtask).
  const fromTimer = (impl: Impl) => new Promise<string[]>((resolve) => setTimeout(() => resolve(scenario(impl)), 1));
  const node = await fromTimer(impls[0][1]);
  const ringport = await fromTimer(impls[1][1]);
  expect(ringport).toEqual(node);
});

describe.each(['node:worker_threads', '.'])('liveness (%s)', (module) => {
  const run = (body: string) =>
    runScript(`const { MessageChannel } = require(${JSON.stringify(module)});\n${body}`, [], 10000);

  test('a message listener keeps the process alive until close', async () => {
    const result = await run(`
      const { port1, port2 } = new MessageChannel();
      port2.on('message', (v) => { console.log('got', v); if (v === 2) port2.close(); });
      port1.postMessage(1);
      setTimeout(() => port1.postMessage(2), 100);
    `);
    expect(result.stdout).toBe('got 1\ngot 2\n');
    expect(result.code).toBe(0);
  });

  test('an unref()ed port or a close listener does not keep it alive', async () => {
    const start = Date.now();
    const result = await run(`
      const { port1, port2 } = new MessageChannel();
      port2.on('message', () => {});
      port2.unref();
      port1.on('close', () => {});
    `);
    expect(result.code).toBe(0);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('removing the last message listener lets the process exit', async () => {
    const result = await run(`
      const { port1, port2 } = new MessageChannel();
      const fn = () => {};
      port2.on('message', fn);
      port2.off('message', fn);
      console.log(port2.hasRef());
    `);
    expect(result.stdout).toBe('false\n');
    expect(result.code).toBe(0);
  });
});
