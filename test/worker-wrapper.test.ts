// ringport's Worker (issue #6 part 3), differentially: each scenario of
// fixtures/worker-wrapper-scenarios.js runs in a child process against
// node:worker_threads and against ringport, and both must print the same and
// exit the same. A few lines of each outcome are also checked outright, so
// that "the same" cannot mean "the same failure".
import * as path from 'node:path';
import * as wt from 'node:worker_threads';
import * as ringport from '..';
import { FIXTURES, runNode } from './helpers';

const SCRIPT = path.join(FIXTURES, 'worker-wrapper-scenarios.js');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(impl: 'node' | 'ringport', scenario: string): Promise<Outcome> {
  return runNode([SCRIPT, scenario], { env: { ...process.env, IMPL: impl }, timeoutMs: 20000, what: `${impl} ${scenario}` });
}

/** Both outcomes, after checking they are equal (stderr: only whether there is any, and its first line). */
async function same(scenario: string): Promise<Outcome> {
  const [node, rp] = await Promise.all([run('node', scenario), run('ringport', scenario)]);
  const firstLine = (s: string) => s.split('\n').find((l) => l.trim() !== '') ?? '';
  expect({ code: rp.code, stdout: rp.stdout, stderr: firstLine(rp.stderr) }).toEqual({
    code: node.code,
    stdout: node.stdout,
    stderr: firstLine(node.stderr),
  });
  return rp;
}

const lines = (o: Outcome) => o.stdout.trim().split('\n');

describe('ringport Worker behaves as node:worker_threads Worker', () => {
  test('module surface: Node re-exports, Worker extends Node’s, parentPort is a ringport port in the worker', async () => {
    const o = await same('surface');
    expect(o.stdout).toContain('Worker.name Worker length 1 is or extends Node\'s true');
    expect(o.stdout).toContain('instanceof Node Worker true');
    expect(o.stdout).toContain('message {isMainThread: false, isImplPort: true}');
    expect(o.stdout).not.toContain(' false\n');
  });

  test('values both ways, postMessage returns undefined, online', async () => {
    const o = await same('values');
    expect(o.stdout).toContain('postMessage returned undefined');
    expect(o.stdout).toContain('message {echo: {big: 10n, set: Set(["a"]), nested: [[1], {a: null}]}}');
  });

  test('every message the worker posted is delivered before exit', async () => {
    expect(lines(await same('drain'))).toEqual(['at exit 5000 messages, in order true code 0']);
  });

  test('and when the worker calls process.exit()', async () => {
    expect(lines(await same('processExit'))).toEqual(['at exit 3000 [{i: 2998}, {i: 2999}] code 3']);
  });

  test('postMessage validation errors as Node; after exit it is silently ignored', async () => {
    const o = await same('validation');
    expect(o.stdout).toContain('no arguments threw TypeError(TypeError, ERR_MISSING_ARGS');
    expect(o.stdout).toContain('port not listed threw TypeError(TypeError, ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST');
    expect(o.stdout).toContain('after exit, no arguments returned undefined');
  });

  test("parentPort.on('message') keeps the worker alive", async () => {
    expect(lines(await same('keepAlive'))).toEqual(['worker says listening', 'exit 0']);
  });

  test('worker.unref() lets the process exit', async () => {
    const o = await same('unref');
    expect(o.stdout).toContain('process exits');
    expect(o.code).toBe(0);
  });

  test("removing the last 'message' listener holds messages until the next one", async () => {
    expect(lines(await same('listenerStop'))).toEqual([
      'first listener hello',
      'second listener 1',
      'second listener 2',
      'second listener 3',
      'exit 0',
    ]);
  });

  test('eval: true workers', async () => {
    expect(lines(await same('evalWorker'))).toEqual([
      'message {data: {answer: 42}, main: false}',
      'message eval got hi',
      'exit 0',
    ]);
  });

  test('new Worker(new URL(…))', async () => {
    expect(lines(await same('url'))).toEqual(['message {fromUrl: true, main: false}', 'exit 0']);
  });

  test('terminate()', async () => {
    const o = await same('terminate');
    expect(o.stdout).toContain('terminate resolved 1');
  });

  test('parentPort.close() in the worker', async () => {
    expect(lines(await same('closeParentPort'))).toEqual(['message before close', 'exit 0', 'post after close returned undefined']);
  });

  test("an uncaught error in the worker: 'error' then exit 1", async () => {
    const o = await same('error');
    expect(o.stdout).toContain('error RangeError(RangeError, undefined, from the worker)');
    expect(o.stdout).toContain('exit 1');
  });

  test('ports of both kinds and ArrayBuffers in worker.postMessage transfer lists', async () => {
    const o = await same('portsInPostMessage');
    expect(o.stdout).toContain('impl port got via impl port');
    expect(o.stdout).toContain('node port got via node port');
    expect(o.stdout).toContain('message {bytes: Uint8Array[1,2,3]}');
  });

  test('ports of both kinds in workerData + transferList, shared references and cycles kept', async () => {
    const o = await same('portsInWorkerData');
    expect(o.stdout).toContain('message {shared: true, self: true, mapSame: true, plain: "x"}');
    for (const name of ['a', 'b', 'n']) expect(o.stdout).toContain(`${name} got hello ${name}`);
  });

  test('a port as workerData itself', async () => {
    expect(lines(await same('portAsWorkerData'))).toEqual(['exit 0', 'got port as workerData']);
  });

  test('workerData and constructor errors as Node; a failed construction transfers nothing', async () => {
    const o = await same('workerDataErrors');
    expect(o.stdout).toContain('unlisted port threw TypeError(TypeError, ERR_MISSING_TRANSFERABLE_IN_TRANSFER_LIST');
    expect(o.stdout).toContain('port1 got still here');
    expect(o.stdout).toContain('transferred port again threw DOMException(DataCloneError, 25, MessagePort in transfer list is already detached)');
  });

  test('a port created in the worker sent through parentPort', async () => {
    const o = await same('portFromWorker');
    expect(o.stdout).toContain('port from worker got queued before transfer');
  });

  test("in a worker started by Node's Worker, parentPort and workerData are Node's", async () => {
    expect(lines(await same('nodeWorkerGetsNodes'))).toEqual([
      'message {parentPortIsNodes: true, workerDataIsNodes: true, workerData: {x: 1}}',
      'exit 0',
    ]);
  });

  test("a worker that posts through Node's own parentPort still reaches worker.on('message')", async () => {
    expect(lines(await same('mixed'))).toEqual(["message through Node's parentPort", 'exit 0']);
  });

  test("a Node worker started inside a ringport worker that never loaded ringport gets Node's parentPort", async () => {
    expect(lines(await same('inherited'))).toEqual(['message {nodes: true, data: "inner data"}', 'exit 0']);
  });

  test('stdout stays Node’s', async () => {
    expect(lines(await same('stdout'))).toEqual(['stdout "hello from the worker\\n" exit 0']);
  });
});

test('in the main thread: Node’s values, and a Worker class that is Node’s subclass', () => {
  expect(ringport.parentPort).toBeNull();
  expect(ringport.workerData).toBe(wt.workerData);
  expect(ringport.isMainThread).toBe(true);
  expect(ringport.SHARE_ENV).toBe(wt.SHARE_ENV);
  expect(Object.getPrototypeOf(ringport.Worker)).toBe(wt.Worker);
});

test("ringport only: a message the main thread cannot decode is the Worker's 'messageerror', and the next one arrives", async () => {
  // 1990 levels: within what ringport's encoder takes, past what its decoder
  // reads (Node's own limit depends on its stack: README, Differences).
  const worker = new ringport.Worker(
    `const { parentPort } = require(${JSON.stringify(path.join(__dirname, '..'))});
     let value = 'leaf';
     for (let i = 0; i < 1990; i++) value = [value];
     parentPort.postMessage(value);
     parentPort.postMessage('after');`,
    { eval: true },
  );
  const events: string[] = [];
  await new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('messageerror', (error: unknown) => {
      events.push(`messageerror ${(error as Error).constructor.name}: ${(error as Error).message}`);
    });
    worker.on('message', (value: unknown) => {
      events.push(`message ${String(value)}`);
      if (value === 'after') resolve();
    });
  });
  await worker.terminate();
  expect(events).toEqual(['messageerror RangeError: Maximum call stack size exceeded', 'message after']);
});
