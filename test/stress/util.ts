// Helpers shared by the stress tests: stall watchdogs, child processes with
// JSON reports, memory formatting.
import * as path from 'node:path';
import { spawn } from 'node:child_process';

export const ROOT = path.join(__dirname, '..', '..');
export const STRESS_FIXTURES = path.join(__dirname, 'fixtures');

export const MiB = 1024 * 1024;
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * Rejects when `progress()` returns the same value for `stallMs` (a hang:
 * a lost message or wake-up), with `dump()` in the message. stop() ends it.
 */
export function stallWatch(
  what: string,
  progress: () => unknown,
  dump: () => unknown,
  stallMs: number,
): { stalled: Promise<never>; stop(): void } {
  let last = JSON.stringify(progress());
  let since = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = JSON.stringify(progress());
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since >= stallMs) {
        clearInterval(timer);
        let state: string;
        try {
          state = JSON.stringify(dump(), null, 1);
        } catch (e) {
          state = `(dump failed: ${(e as Error).message})`;
        }
        reject(new Error(`${what}: no progress for ${stallMs} ms; state: ${state}`));
      }
    }, 250);
  });
  stalled.catch(() => {}); // observed by whoever races it
  return { stalled, stop: () => clearInterval(timer) };
}

export interface ChildResult<R> {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The object the child printed on a line `REPORT {...}` (its last one), if any. */
  report: R | undefined;
  /** The child had to be killed: it did not exit within the timeout. */
  timedOut: boolean;
}

/**
 * Runs `node [nodeArgs] file [args]` (cwd: repository root) and collects its
 * output. A child that does not exit within `timeoutMs` is killed and reported
 * as timed out (not rejected: "does not exit" is what some tests check).
 */
export function runChild<R = unknown>(
  file: string,
  args: string[],
  nodeArgs: string[],
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<ChildResult<R>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, file, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.startsWith('REPORT '));
      let report: R | undefined;
      try {
        report = lines.length > 0 ? (JSON.parse(lines[lines.length - 1].slice(7)) as R) : undefined;
      } catch (e) {
        stderr += `\n(runChild: unreadable report: ${(e as Error).message})`;
      }
      resolve({ code, signal, stdout, stderr, report, timedOut });
    });
  });
}

/** One line saying how a child ended, for failure messages. */
export function describeChild(r: ChildResult<unknown>): string {
  return `code ${r.code} signal ${r.signal}${r.timedOut ? ' (killed: timed out)' : ''}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}
