'use strict';
// Parent side: runs scenario files in child processes (runner.js) for two
// implementations and collects comparable outcomes. Used by the jest suites
// (suite.ts) and by the command-line report (report.js).
const { execFile, spawnSync } = require('node:child_process');
const path = require('node:path');
const { normalizeStderr } = require('./normalize');

const RUNNER = path.join(__dirname, 'runner.js');
const MARKER = '@@CONFORMANCE-OUTCOME@@';
const SCENARIO_DIR = path.join(__dirname, '..', 'scenarios');

function parseMarked(stdout) {
  const lines = stdout.split('\n').filter((l) => l.startsWith(MARKER));
  if (lines.length === 0) return null;
  return JSON.parse(lines[lines.length - 1].slice(MARKER.length));
}

function scenarioFile(base) {
  return path.join(SCENARIO_DIR, base.endsWith('.js') ? base : `${base}.js`);
}

/** The scenarios a file defines (names, items, options), read in a child process. */
function listScenarios(file) {
  const r = spawnSync(process.execPath, [RUNNER, 'list', file], {
    encoding: 'utf8',
    timeout: 20000,
    env: { ...process.env, IMPL: 'node' },
  });
  const list = parseMarked(r.stdout || '');
  if (!list) throw new Error(`cannot list scenarios of ${file}: ${r.stderr}`);
  return list;
}

function run(args, impl, timeout, flags = []) {
  return new Promise((resolve) => {
    const started = Date.now();
    execFile(
      process.execPath,
      [...flags, RUNNER, ...args],
      {
        encoding: 'utf8',
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, IMPL: impl, NODE_OPTIONS: '' },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const signal = error ? error.signal || null : null;
        resolve({ code, signal, stdout, stderr, killed: !!(error && error.killed), ms: Date.now() - started });
      },
    );
  });
}

/**
 * Runs the in-process scenarios `names` of `file` with one child process. If
 * that process dies (a crash in one scenario), each scenario is run again in
 * its own process so that one crash does not hide the other outcomes.
 */
async function runBatch(file, impl, names, timeout = 100000) {
  if (names.length === 0) return {};
  const r = await run(['batch', file, ...names], impl, timeout);
  const outcomes = parseMarked(r.stdout);
  if (outcomes) return outcomes;
  const failure = (res) => ({
    harnessError: `batch child failed: code ${res.code} signal ${res.signal}${res.killed ? ' (killed: timeout)' : ''}`,
    stderr: normalizeStderr(res.stderr).slice(0, 4000),
  });
  if (names.length === 1) return { [names[0]]: failure(r) };
  const single = await pool(
    names.map((name) => async () => {
      const one = await run(['batch', file, name], impl, 30000);
      const parsed = parseMarked(one.stdout);
      return [name, parsed && parsed[name] ? parsed[name] : failure(one)];
    }),
    2,
  );
  return Object.fromEntries(single);
}

/** Runs one isolated scenario in a fresh process: its log plus exit code, signal and stderr. */
async function runIsolated(file, impl, scenario) {
  const timeout = scenario.timeout || 10000;
  const r = await run(['isolated', file, scenario.name], impl, timeout, scenario.flags || []);
  const inner = parseMarked(r.stdout) || { log: null };
  return {
    ...inner,
    exitCode: r.code,
    signal: r.signal,
    ...(r.killed ? { harnessError: `killed after ${timeout} ms` } : {}),
    stderr: normalizeStderr(r.stderr),
  };
}

async function pool(tasks, concurrency) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

/**
 * Runs every selected scenario of `file` under implA and implB.
 * Returns { [name]: { a: outcome, b: outcome } }. Expected-mode scenarios
 * (not differential) run only under implB unless `alsoA`.
 */
async function runFile(file, list, { implA = 'node', implB = 'ringport', includeSkipped = false, concurrency = 2 } = {}) {
  const selected = list.filter((s) => includeSkipped || !s.skip);
  const batched = selected.filter((s) => !s.isolated).map((s) => s.name);
  const isolated = selected.filter((s) => s.isolated);
  const [a, b] = await Promise.all([runBatch(file, implA, batched), runBatch(file, implB, batched)]);
  const results = {};
  for (const name of batched) results[name] = { a: a[name], b: b[name] };
  const tasks = [];
  for (const s of isolated) {
    results[s.name] = {};
    tasks.push(async () => {
      results[s.name].a = await runIsolated(file, implA, s);
    });
    tasks.push(async () => {
      results[s.name].b = await runIsolated(file, implB, s);
    });
  }
  await pool(tasks, concurrency);
  return results;
}

/** The part of an outcome that is compared (debugging aids removed). */
function comparable(outcome, scenario) {
  if (!outcome || typeof outcome !== 'object') return outcome;
  const { debugStack, ...rest } = outcome;
  if (scenario && scenario.excerptDiffers && typeof rest.stderr === 'string') rest.stderr = withoutExcerpt(rest.stderr);
  return rest;
}

/** A fatal error report without the source excerpt above it (location, source line, caret). */
function withoutExcerpt(stderr) {
  const lines = stderr.split('\n');
  const caret = lines.findIndex((line) => /^\s*\^+\s*$/.test(line));
  return caret >= 0 && caret <= 2 ? lines.slice(caret + 1).join('\n') : stderr;
}

/** Why a Node-side outcome cannot serve as the reference, or null if it is clean. */
function nodeProblem(outcome, scenario) {
  if (!outcome) return 'no outcome';
  if (outcome.harnessError) return `harness error: ${outcome.harnessError}`;
  if (outcome.threw) return `scenario threw: ${JSON.stringify(outcome.threw)}\n${outcome.debugStack || ''}`;
  if (scenario.isolated && outcome.log === null) return `no outcome printed (exit ${outcome.exitCode}, signal ${outcome.signal}): ${outcome.stderr}`;
  return null;
}

module.exports = {
  SCENARIO_DIR,
  scenarioFile,
  listScenarios,
  runBatch,
  runIsolated,
  runFile,
  comparable,
  nodeProblem,
  pool,
};
