// BroadcastChannel (lib/broadcast.ts): each scenario of
// fixtures/broadcast-scenarios.js runs in a child process on
// node:worker_threads and on ringport, and must print the same log and end
// with the same exit code. Cross-thread scenarios use real workers.
import * as path from 'node:path';
import { FIXTURES, runScript } from './helpers';

const SCRIPT = path.join(FIXTURES, 'broadcast-scenarios.js');

function run(impl: 'node' | 'ringport', scenario: string, env = '') {
  const source = `${env}process.argv.push(${JSON.stringify(impl)}, ${JSON.stringify(scenario)}); require(${JSON.stringify(SCRIPT)});`;
  return runScript(source, [], 15000);
}

const DIFFERENTIAL = [
  'same-thread senders keep one order',
  'a channel created after a post does not receive it',
  'close while messages are queued',
  'MessageEvent shape and EventTarget listeners',
  'ticks and microtasks run between messages',
  'a listener that throws',
  'liveness: unref, ref, close',
  'errors',
  'across threads: every member hears every other, per-sender order kept',
  'a worker terminated while subscribed',
];

describe('BroadcastChannel, same outcome as node:worker_threads', () => {
  test.concurrent.each(DIFFERENTIAL)('%s', async (scenario) => {
    const [node, ringport] = await Promise.all([run('node', scenario), run('ringport', scenario)]);
    expect(node.stdout.length).toBeGreaterThan(0);
    expect(ringport.stderr).toBe(node.stderr);
    expect(ringport.stdout).toBe(node.stdout);
    expect(ringport.code).toBe(node.code);
  });
});

describe('BroadcastChannel, ringport only', () => {
  test('a message too deep to decode is a messageerror, and the next one arrives', async () => {
    // Node's own limit depends on its stack (README, Differences: nesting).
    const result = await run('ringport', 'messageerror for a message too deep to read', 'process.env.DEPTH = "1990";');
    expect(result.stdout).toBe('messageerror MessageEvent true Maximum call stack size exceeded\nmessage after\n');
    expect(result.code).toBe(0);
  });

  test('exported from the package, with Node prototype surface', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ringport = require('..') as typeof import('../lib');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wt = require('node:worker_threads') as typeof import('node:worker_threads');
    const names = (p: object) => Object.getOwnPropertyNames(p);
    expect(names(ringport.BroadcastChannel.prototype)).toEqual(names(wt.BroadcastChannel.prototype));
    expect(ringport.BroadcastChannel.length).toBe(wt.BroadcastChannel.length);
    const a = new ringport.BroadcastChannel('jest');
    expect(a.name).toBe('jest');
    a.close();
  });
});
