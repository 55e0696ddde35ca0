// Structured clone: every value arrives as it does through node:worker_threads
// (compared in a plain child process: one realm, as in a user's program).
import * as path from 'node:path';
import { FIXTURES, runScript } from './helpers';

test('values arrive exactly as through node:worker_threads', async () => {
  const result = await runScript(
    `process.argv[2] = ${JSON.stringify(path.join(FIXTURES, 'clone-values.js'))};
     require(${JSON.stringify(path.join(FIXTURES, 'clone-compare.js'))});`,
  );
  expect(result.stderr).toBe('');
  const outcome = JSON.parse(result.stdout) as Record<string, unknown>;
  const different = Object.entries(outcome).filter(([, v]) => v !== 'same');
  expect(Object.fromEntries(different)).toEqual({});
  expect(Object.keys(outcome).length).toBeGreaterThan(50);
});
