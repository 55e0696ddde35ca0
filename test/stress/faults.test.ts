// Stress 5 — listener faults. Listeners that throw (reaching
// process.on('uncaughtException') as Node's do, with the next messages still
// delivered), ports closed inside their own listener, listeners that post to
// their own port, unref() inside a listener (the process exits when it
// should). Jest intercepts uncaught exceptions, so each scenario runs in a
// child process (fixtures/faults-child.js), once on node:worker_threads and
// once on ringport: the reports (what each listener saw, in order) and the
// exit codes must be equal, and each is also checked against what it must say.
import * as path from 'node:path';
import { sizes } from './sizes';
import { STRESS_FIXTURES, describeChild, runChild, type ChildResult } from './util';

interface FaultReport {
  scenario: string;
  events: string[];
  exitCode: number;
}

const { stream: STREAM, pingPong: PING_PONG, closeInListener: CLOSE_IN_LISTENER } = sizes.faults;

function run(impl: 'node' | 'ringport', scenario: string, size: number): Promise<ChildResult<FaultReport>> {
  return runChild<FaultReport>(path.join(STRESS_FIXTURES, 'faults-child.js'), [impl, scenario, String(size)], [], 60_000);
}

/** Runs a scenario on both implementations; returns ringport's result after checking it equals Node's. */
async function same(scenario: string, size: number): Promise<ChildResult<FaultReport>> {
  const [node, ringport] = await Promise.all([run('node', scenario, size), run('ringport', scenario, size)]);
  for (const r of [node, ringport]) {
    if (r.timedOut || r.report === undefined) throw new Error(`${scenario}: ${describeChild(r)}`);
  }
  expect({ report: ringport.report, code: ringport.code }).toEqual({ report: node.report, code: node.code });
  return ringport;
}

test(`a listener that throws every 97th of ${STREAM} messages: each error reaches 'uncaughtException' before the next message, all are delivered`, async () => {
  const r = await same('throw-same-thread', STREAM);
  const throws = Math.floor(STREAM / 97);
  const events = (r.report as FaultReport).events;
  // (Summarized: the first five, the count and a checksum of all, the last three.)
  expect(events[0]).toBe('uncaught boom 96 (uncaughtException, same object: true, after message 96)');
  expect(events[5]).toMatch(new RegExp(`^… ${throws + 1} events in all, checksum`));
  expect(events[7]).toBe(`uncaught boom ${throws * 97 - 1} (uncaughtException, same object: true, after message ${throws * 97 - 1})`);
  expect(events[8]).toBe(`close after ${STREAM} messages`);
  expect(r.code).toBe(0);
}, sizes.timeout);

test(`listeners (on, addEventListener, onmessage) that throw in a stream of ${STREAM} messages from a worker`, async () => {
  for (const size of [STREAM, STREAM + 1, STREAM + 2]) {
    const r = await same('throw-worker-stream', size);
    expect((r.report as FaultReport).events).toEqual([
      `done: ${size} messages in order, ${Math.floor(size / 997)} uncaught exceptions, 0 out of place`,
    ]);
  }
}, sizes.timeout);

test('a listener in a worker that throws, with the worker handling uncaught exceptions: it keeps receiving', async () => {
  const size = Math.floor(STREAM / 4);
  const r = await same('throw-in-worker', size);
  expect((r.report as FaultReport).events).toEqual([
    `worker: ${size} messages, 0 out of order, ${Math.floor(size / 101)} uncaught exceptions, 0 out of place`,
  ]);
}, sizes.timeout);

test('process.nextTick callbacks that throw, queued by a listener, are reported between messages', async () => {
  const r = await same('nexttick-throw', 0);
  expect((r.report as FaultReport).events.filter((e) => e.startsWith('uncaught'))).toEqual([
    'uncaught tick 1',
    'uncaught tick 4',
    'uncaught tick 7',
  ]);
}, sizes.timeout);

test('a listener that throws with no handler: the process dies of it, as with Node', async () => {
  const r = await same('throw-unhandled', 0);
  expect(r.code).toBe(1);
  expect((r.report as FaultReport).events).toEqual(['message 0', 'message 1', 'message 2', 'message 3']);
  expect(r.stderr).toContain('Error: boom 3');
}, sizes.timeout);

test(`${CLOSE_IN_LISTENER} ports closed inside their own listener at a random message of a burst`, async () => {
  const r = await same('close-in-listener', CLOSE_IN_LISTENER);
  const events = (r.report as FaultReport).events;
  // (Summarized: the first five, the count and a checksum of all, the last three.)
  expect(events[5]).toMatch(new RegExp(`^… ${CLOSE_IN_LISTENER} events in all, checksum`));
  for (const e of [...events.slice(0, 5), ...events.slice(6)]) expect(e).toMatch(/^\d+\/\d+: .* close$/);
}, sizes.timeout);

test('a port closed inside its listener while a worker floods it: one close, nothing after it, the worker ends', async () => {
  const r = await same('close-in-listener-worker', 5000);
  expect((r.report as FaultReport).events).toEqual(['1 close, after at least 5001 messages: true; 0 messages after it; worker exit 0']);
}, sizes.timeout);

test(`a listener that posts to its own port ${PING_PONG} times: timers and immediates still run, where Node runs them`, async () => {
  const r = await same('post-to-self', PING_PONG);
  const [line] = (r.report as FaultReport).events;
  expect(line).toMatch(new RegExp(`^${PING_PONG} messages; immediates ran after messages 1000,2000,`));
}, sizes.timeout);

test(`ping-pong between two listeners of one thread, ${PING_PONG} round trips`, async () => {
  const r = await same('ping-pong', PING_PONG);
  expect((r.report as FaultReport).events).toEqual([`${PING_PONG} pings, ${PING_PONG} pongs`]);
}, sizes.timeout);

test('unref() inside the listener of a port a worker keeps flooding: the process exits', async () => {
  const r = await same('unref-in-listener-worker', 5000);
  expect(r.code).toBe(0);
  expect((r.report as FaultReport).events).toEqual(['unref after 5000 messages', 'exited after at least 5000 messages: true']);
}, sizes.timeout);

test('unref() inside a listener with messages queued; unref() then ref() keeps the process alive', async () => {
  const r = await same('unref-in-listener', 0);
  expect((r.report as FaultReport).events).toEqual(['a 0', 'a 1', 'a 2', 'a 3', 'a 4', 'a 5', 'b 0', 'immediate', 'b 1']);
}, sizes.timeout);
