// What an implementation (node:worker_threads or ringport) did with a value:
// the error it threw, in a form two implementations can be compared by.
import type { MessagePort } from '../..';

export interface Impl {
  MessageChannel: new () => { port1: MessagePort; port2: MessagePort };
  receiveMessageOnPort(port: unknown): { message: unknown } | undefined;
}

/** Constructor name, name, code and message of an error (or the thrown primitive). */
export function errorShape(e: unknown): string {
  if (typeof e !== 'object' || e === null) return `thrown ${typeof e}: ${String(e)}`;
  const err = e as { constructor?: { name?: string }; name?: string; code?: unknown; message?: string };
  return JSON.stringify({ class: err.constructor?.name, name: err.name, code: err.code, message: err.message });
}

/**
 * Name, code and message only. Used for errors of receiveMessageOnPort: its
 * constructor is checked on its own (decoder-fuzz.test.ts), so that this
 * difference does not hide others.
 */
export function errorKind(e: unknown): string {
  if (typeof e !== 'object' || e === null) return `thrown ${typeof e}: ${String(e)}`;
  const err = e as { name?: string; code?: unknown; message?: string };
  return JSON.stringify({ name: err.name, code: err.code, message: err.message });
}

export type Received = { ok: true; value: unknown } | { ok: false; error: string };

/** Takes every queued message with receiveMessageOnPort; an error is recorded and taking goes on. */
export function drain(impl: Impl, port: MessagePort, limit = 1000): Received[] {
  const out: Received[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      const got = impl.receiveMessageOnPort(port);
      if (got === undefined) return out;
      out.push({ ok: true, value: got.message });
    } catch (e) {
      out.push({ ok: false, error: errorKind(e) });
    }
  }
  throw new Error(`more than ${limit} messages queued`);
}

/** Runs `fn`, returning the shape of what it threw, or null. */
export function thrownBy(fn: () => unknown): { shape: string; error: unknown } | null {
  try {
    fn();
    return null;
  } catch (error) {
    return { shape: errorShape(error), error };
  }
}
