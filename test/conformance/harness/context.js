'use strict';
// The `t` object each scenario receives: the implementation under test, an
// event log, and helpers that describe values and errors identically for both
// implementations.
const path = require('node:path');
const { describe, describeError } = require('./describe');

const AGENT = path.join(__dirname, '..', 'scenarios', 'workers', 'agent.js');

function isPlainArray(v, depth = 0) {
  if (!Array.isArray(v) || depth > 4 || Object.getPrototypeOf(v) !== Array.prototype) return false;
  const keys = Reflect.ownKeys(v);
  if (keys.length !== v.length + 1) return false; // holes or extra properties
  for (let i = 0; i < v.length; i++) {
    const d = Object.getOwnPropertyDescriptor(v, i);
    if (!d || !('value' in d) || !d.writable || !d.enumerable || !d.configurable) return false;
    const x = d.value;
    if (x === null || typeof x === 'string' || typeof x === 'boolean') continue;
    if (typeof x === 'number' && Number.isFinite(x) && !Object.is(x, -0)) continue;
    if (isPlainArray(x, depth + 1)) continue;
    return false;
  }
  return true;
}

class Context {
  constructor(impl, name) {
    this.impl = impl;
    this.name = name;
    this.entries = [];
    this.frozen = false;
    this.labels = new Map();
    this.ports = new Set();
    this.workers = new Set();
    this.cleanups = [];
  }

  /** Appends to the log: a string as is, or [label, ...described values]. */
  log(label, ...values) {
    if (this.frozen) return;
    this.entries.push(values.length === 0 ? label : [label, ...values.map((v) => this.d(v))]);
  }

  /** Appends a raw JSON-able entry (not described). */
  raw(label, value) {
    if (this.frozen) return;
    this.entries.push([label, value]);
  }

  /**
   * describe(value) with this scenario's port labels. Dense arrays (with the
   * standard prototype and no extra properties) of strings, booleans, null and
   * ordinary numbers are kept as JSON arrays, for readable logs.
   */
  d(value) {
    if (isPlainArray(value)) return value;
    return describe(value, { isPort: this.impl.isPort, labels: this.labels });
  }

  /** describeError(e) with this scenario's port labels. */
  e(error) {
    return describeError(error, { isPort: this.impl.isPort, labels: this.labels });
  }

  /** Runs fn: { returned: described value } or { threw: described error }. */
  try(fn) {
    try {
      return { returned: this.d(fn()) };
    } catch (error) {
      return { threw: this.e(error) };
    }
  }

  /** Logs the outcome of fn() under `label`. */
  logTry(label, fn) {
    if (this.frozen) return undefined;
    const outcome = this.try(fn);
    this.entries.push([label, outcome]);
    return outcome;
  }

  /** Logs only the thrown error (or 'no throw') of fn(). */
  logThrows(label, fn) {
    try {
      fn();
      this.log(`${label}: no throw`);
    } catch (error) {
      this.raw(label, this.e(error));
    }
  }

  label(port, name) {
    this.labels.set(port, name);
    this.ports.add(port);
    return port;
  }

  /** A new channel whose ports are labelled and closed after the scenario. */
  channel(name1 = 'port1', name2 = 'port2') {
    const ch = new this.impl.MessageChannel();
    this.label(ch.port1, name1);
    this.label(ch.port2, name2);
    return ch;
  }

  /** A port received in a message: labelled and tracked for cleanup. */
  track(port, name) {
    if (port && typeof port === 'object') this.label(port, name);
    return port;
  }

  startWorker(file, port, data, options) {
    const w = this.impl.startWorker(file, port, data, options);
    this.workers.add(w);
    return w;
  }

  /**
   * Starts a worker running fn({ port, impl, arg, wt, require }) (fn is sent
   * as source text: it must not close over anything), with `port` handed over.
   */
  agent(fn, port = null, arg = null, options = {}) {
    return this.startWorker(AGENT, port, { src: fn.toString(), arg }, options);
  }

  /**
   * As agent(), but started by the implementation's own Worker (item 62):
   * the function reaches its parent through impl.parentPort.
   */
  implAgent(fn, arg = null, options = {}) {
    const w = new this.impl.Worker(AGENT, { ...options, workerData: { port: null, data: { src: fn.toString(), arg } } });
    this.workers.add(w);
    return w;
  }

  onCleanup(fn) {
    this.cleanups.push(fn);
  }

  wait(ms = 0) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  immediate() {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Busy-waits `ms` milliseconds. Used right after scheduling a setTimeout(0)
   * whose order relative to immediates/messages is logged: the timer is then
   * certainly due at the next timers phase, so the order is deterministic.
   */
  spin(ms = 3) {
    const until = Date.now() + ms;
    while (Date.now() < until);
  }

  /** Several event-loop turns: enough for same-thread messages and 'close' events to land. */
  async turns(n = 3) {
    for (let i = 0; i < n; i++) {
      await this.immediate();
      await this.wait(1);
    }
  }

  /**
   * The next 'message' value on port (a Node-style once listener), or the
   * string '<no message within N ms>' (the listener is then removed).
   */
  next(port, timeoutMs = 1000) {
    return new Promise((resolve) => {
      const onMessage = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        port.off('message', onMessage);
        resolve(`<no message within ${timeoutMs} ms>`);
      }, timeoutMs);
      port.once('message', onMessage);
    });
  }

  /** Resolves when `event` fires on `target` (EventEmitter or NodeEventTarget), with a timeout fallback value. */
  when(target, event, timeoutMs = 3000) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('<timeout>'), timeoutMs);
      target.once(event, (...args) => {
        clearTimeout(timer);
        resolve(args);
      });
    });
  }

  /** Logs every 'message'/'close'/'messageerror' on port as `${name}:message …`. */
  watch(port, name = this.labels.get(port) || 'port', { message = true, close = true, messageerror = true } = {}) {
    if (message) port.on('message', (v) => this.log(`${name}:message`, v));
    if (messageerror) port.on('messageerror', (e) => this.log(`${name}:messageerror`, e));
    if (close) port.on('close', () => this.log(`${name}:close`));
    return port;
  }

  /** Posts value from `from` and returns what `to` receives next (as a Node-style listener value). */
  async roundTrip(value, transfer) {
    const { port1, port2 } = this.channel('rt1', 'rt2');
    const got = this.next(port2);
    if (transfer === undefined) port1.postMessage(value);
    else port1.postMessage(value, transfer);
    return got;
  }

  async cleanup() {
    for (const fn of this.cleanups) {
      try {
        await fn();
      } catch {
        // ignore
      }
    }
    for (const port of this.ports) {
      try {
        port.close();
      } catch {
        // ignore
      }
    }
    for (const w of this.workers) {
      try {
        await w.terminate();
      } catch {
        // ignore
      }
    }
  }
}

module.exports = { Context };
