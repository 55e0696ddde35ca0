// Shared test helpers. Workers run plain JavaScript fixtures that load the
// built package (dist/), as a user's worker would.
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';

export const ROOT = path.join(__dirname, '..');
export const FIXTURES = path.join(__dirname, 'fixtures');

/** `fn` must be called exactly `times` times before the test ends (checked by `verify`). */
export function mustCall<A extends unknown[], R>(fn: (...args: A) => R, times = 1) {
  let calls = 0;
  const wrapped = (...args: A): R => {
    calls++;
    return fn(...args);
  };
  return Object.assign(wrapped, {
    get calls() {
      return calls;
    },
    verify() {
      expect(calls).toBe(times);
    },
  });
}

/** Resolves after `n` turns of the event loop (setImmediate). */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts a worker from test/fixtures. */
export function startWorker(fixture: string, workerData?: unknown): Worker {
  return new Worker(path.join(FIXTURES, fixture), { workerData });
}

/** Resolves with the worker's exit code. */
export function exited(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
}

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `args` in a fresh process (cwd: repo root), collecting its output. */
export function runNode(
  args: string[],
  { env, timeoutMs = 60000, what = 'script' }: { env?: NodeJS.ProcessEnv; timeoutMs?: number; what?: string } = {},
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `source` as a CommonJS script in a fresh Node process (cwd: repo root). */
export function runScript(source: string, args: string[] = [], timeoutMs = 60000): Promise<ScriptResult> {
  return runNode([...args, '-e', source], { timeoutMs });
}
