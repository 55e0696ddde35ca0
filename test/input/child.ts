// Runs an exported function of a test/input TypeScript module in a plain
// Node child process (one realm; see fixtures/run-ts.js) and returns what it
// returned. A crash (signal, non-zero exit) fails with its output.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

import { TIMEOUT } from './recipes';

const RUNNER = path.join(__dirname, 'fixtures', 'run-ts.js');

export async function runInChild<T>(module: string, exported: string, args: unknown, timeoutMs = TIMEOUT - 10_000): Promise<T> {
  const file = path.join(__dirname, module);
  const child = spawn(process.execPath, ['--no-warnings', RUNNER, file, exported, JSON.stringify(args)], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || signal !== null || line === undefined) {
    throw new Error(`${module} ${exported}: exit code ${code}, signal ${signal}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`);
  }
  return JSON.parse(line.slice('RESULT '.length)) as T;
}
