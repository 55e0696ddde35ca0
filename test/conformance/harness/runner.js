'use strict';
// Child-process entry point. IMPL=node|ringport selects the implementation.
//   node runner.js list <scenario file>
//       JSON list of the file's scenarios and their options
//   node runner.js batch <scenario file> [name ...]
//       runs the named (default: all non-isolated, non-skipped) scenarios one
//       after the other in this process, each with a fresh log, each started
//       from its own setImmediate callback, waiting for the loop to settle in
//       between; prints {name: outcome}
//   node [flags] runner.js isolated <scenario file> <name>
//       runs one scenario synchronously from the main script and prints its
//       outcome when the process exits (exit code / stderr are taken by the parent)
// Outcomes are printed on one stdout line prefixed with MARKER.
const fs = require('node:fs');
const path = require('node:path');

const MARKER = '@@CONFORMANCE-OUTCOME@@';
const [mode, fileArg, ...rest] = process.argv.slice(2);
const file = path.resolve(fileArg);

function loadScenarios() {
  return require(file);
}

function print(obj) {
  fs.writeSync(1, `\n${MARKER}${JSON.stringify(obj)}\n`);
}

function debugStack(error) {
  return error && typeof error.stack === 'string' ? error.stack.split('\n').slice(0, 6).join('\n') : String(error);
}

if (mode === 'list') {
  print(
    loadScenarios().map((s) => ({
      name: s.name,
      items: s.items,
      isolated: !!s.isolated,
      flags: s.flags || [],
      skip: s.skip || null,
      expected: s.expected === undefined ? null : s.expected,
      reason: s.reason || null,
      timeout: s.timeout || null,
      excerptDiffers: !!s.excerptDiffers,
    })),
  );
} else if (mode === 'batch') {
  runBatch();
} else if (mode === 'isolated') {
  runIsolated(rest[0]);
} else {
  throw new Error(`unknown mode ${mode}`);
}

async function runBatch() {
  const impl = require('./impl');
  const { Context } = require('./context');
  const all = loadScenarios();
  const wanted = rest.length > 0 ? rest : all.filter((s) => !s.isolated && !s.skip).map((s) => s.name);
  let current = null;
  process.on('uncaughtException', (e) => {
    if (current) current.log('uncaughtException', e);
  });
  process.on('unhandledRejection', (e) => {
    if (current) current.log('unhandledRejection', e);
  });
  process.on('warning', (w) => {
    if (current) current.raw('warning', `${w.name}: ${w.message}`);
  });
  const outcomes = {};
  for (const name of wanted) {
    const s = all.find((x) => x.name === name);
    if (!s) {
      outcomes[name] = { harnessError: 'no such scenario' };
      continue;
    }
    const t = new Context(impl, name);
    current = t;
    if (process.env.CONFORMANCE_TRACE) fs.writeSync(2, `[conformance] ${Date.now() % 100000} start ${name}\n`);
    const outcome = {};
    const limit = s.timeout || 5000;
    let timer;
    const finished = await new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limit);
      setImmediate(() => {
        let p;
        try {
          p = Promise.resolve(s.run(t));
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(
          (value) => {
            if (value !== undefined) outcome.result = t.d(value);
            resolve('done');
          },
          (error) => {
            outcome.threw = t.e(error);
            outcome.debugStack = debugStack(error);
            resolve('done');
          },
        );
      });
    });
    clearTimeout(timer);
    if (finished === 'timeout') outcome.harnessError = `timeout after ${limit} ms`;
    else await t.turns(2);
    outcome.log = t.entries;
    // Anything logged from here on is not part of the outcome.
    t.frozen = true;
    current = null;
    if (process.env.CONFORMANCE_TRACE) fs.writeSync(2, `[conformance] cleanup ${name}\n`);
    await t.cleanup();
    await t.turns(2);
    outcomes[name] = outcome;
  }
  print(outcomes);
  process.exit(0);
}

function runIsolated(name) {
  const impl = require('./impl');
  const { Context } = require('./context');
  const s = loadScenarios().find((x) => x.name === name);
  if (!s) throw new Error(`no such scenario ${name}`);
  const t = new Context(impl, name);
  const outcome = {};
  process.on('warning', (w) => t.raw('warning', `${w.name}: ${w.message}`));
  process.on('exit', (code) => {
    outcome.log = t.entries;
    outcome.exitEventCode = code;
    print(outcome);
  });
  let p;
  try {
    p = s.run(t);
  } catch (e) {
    outcome.threw = t.e(e);
    outcome.debugStack = debugStack(e);
  }
  if (p && typeof p.then === 'function') {
    p.then(
      (value) => {
        if (value !== undefined) outcome.result = t.d(value);
      },
      (error) => {
        outcome.threw = t.e(error);
        outcome.debugStack = debugStack(error);
      },
    );
  }
}
