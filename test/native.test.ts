// The native unit tests of the ring (native/test/), built with g++ and run
// by scripts/native-test. The sanitizer builds run with `npm run sanitize`.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './helpers';

test('native ring and port unit tests pass', () => {
  const result = spawnSync(path.join(ROOT, 'scripts', 'native-test'), [], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, RINGPORT_STRESS_N: process.env.RINGPORT_STRESS_N ?? '2000000' },
    timeout: 300000,
  });
  if (result.status !== 0) console.error(result.stdout, result.stderr);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/0 failed/);
});
