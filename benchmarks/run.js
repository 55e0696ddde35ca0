#!/usr/bin/env node
'use strict';
// Orchestrator of `npm run bench`: runs every row of rows.js in fresh child
// processes (benchmarks/case.js), ringport and node:worker_threads side by
// side, then prints the table, writes the JSON and the PNG chart to
// benchmarks/results/.
//
//   node benchmarks/run.js [--quick] [--json] [--filter TEXT] [--rounds N] [--seconds S] [--native]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const { ROWS } = require('./rows');
const { evaluate, formatReport } = require('./report');
const { machineInfo, describeMachine } = require('./machine');

const ROOT = path.join(__dirname, '..');
const RESULTS = path.join(__dirname, 'results');
const CASE = path.join(__dirname, 'case.js');

const USAGE = `usage: npm run bench -- [options]
  --quick          2 rounds of ~0.1 s measurements, 1 for the memory and idle rows (under 30 s)
  --json           print the results as JSON on stdout (the table goes to stderr)
  --filter TEXT    only the rows whose id or title contains TEXT (case-insensitive)
  --rounds N       rounds per row (default 5, --quick 2)
  --seconds S      target duration of one measurement (default 0.3, --quick 0.1)
  --native         also run the plain C++ ring benchmark (native/test/out/ring_bench)
  --help`;

/** A mistake on the command line: reported without a stack trace. */
function usageError(message) {
  return Object.assign(new Error(message), { usage: true });
}

function parseArgs(argv) {
  const args = { quick: false, json: false, filter: null, rounds: null, seconds: null, native: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw usageError(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--quick') args.quick = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--native') args.native = true;
    else if (arg === '--filter') args.filter = value();
    else if (arg === '--rounds') args.rounds = Number(value());
    else if (arg === '--seconds') args.seconds = Number(value());
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw usageError(`unknown option ${arg}\n${USAGE}`);
  }
  if (args.rounds !== null && !(Number.isInteger(args.rounds) && args.rounds > 0)) throw usageError('--rounds must be a positive integer');
  if (args.seconds !== null && !(args.seconds > 0)) throw usageError('--seconds must be a positive number');
  return args;
}

const log = (text) => process.stderr.write(`${text}\n`);

/** Runs one job of case.js in a fresh process; resolves with its RESULT, rejects with its stderr. */
function runCase(job) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CASE, JSON.stringify(job)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // case.js has its own watchdog; this one catches a process that cannot even run it.
    const killer = setTimeout(() => child.kill('SIGKILL'), (job.timeout + 10) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)));
      else reject(new Error(`${job.case} ${JSON.stringify(job.params)} failed (${signal ?? `exit ${code}`}):\n${stderr.trim()}`));
    });
  });
}

/** All rounds of a row: one process alternating in-process, or (isolate) one process per implementation and round. */
async function runRow(row, settings) {
  const job = { case: row.case, seconds: settings.seconds, timeout: settings.timeout };
  if (!row.isolate) return runCase({ ...job, params: row.params, rounds: settings.rounds });

  const samples = {};
  const meta = [];
  for (let round = 0; round < settings.isolatedRounds; round++) {
    // A B, B A, ...: the processes alternate as the variants do in-process.
    const order = round % 2 === 0 ? row.isolate : [...row.isolate].reverse();
    for (const params of order) {
      const result = await runCase({ ...job, params, rounds: 1, round });
      for (const [key, values] of Object.entries(result.samples)) (samples[key] ??= []).push(...values);
      meta.push({ round, params, meta: result.meta });
    }
  }
  return { samples, meta };
}

function runNative() {
  const bench = path.join(ROOT, 'native', 'test', 'out', 'ring_bench');
  if (!fs.existsSync(bench)) {
    log('building native/test/out/ring_bench (scripts/native-test, build only)...');
    const built = spawnSync(path.join(ROOT, 'scripts', 'native-test'), [], {
      cwd: ROOT,
      env: { ...process.env, RINGPORT_NATIVE_TEST_BUILD_ONLY: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (built.status !== 0) return { error: 'scripts/native-test failed to build ring_bench' };
  }
  const ran = spawnSync(bench, [], { encoding: 'utf8' });
  return ran.status === 0 ? { output: ran.stdout.trim() } : { error: `ring_bench failed: ${ran.stderr}` };
}

function timestamp(date) {
  return date.replace(/[:]/g, '-').replace(/\..*$/, '');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const settings = {
    quick: args.quick,
    rounds: args.rounds ?? (args.quick ? 2 : 5),
    // Rows that start a process per implementation and round (memory, idle
    // channels) cost the most; --quick runs them once.
    isolatedRounds: args.rounds ?? (args.quick ? 1 : 5),
    seconds: args.seconds ?? (args.quick ? 0.1 : 0.3),
    timeout: args.quick ? 60 : 120,
    filter: args.filter,
  };
  const needle = args.filter?.toLowerCase();
  const rows = ROWS.filter((r) => !needle || r.id.toLowerCase().includes(needle) || r.title.toLowerCase().includes(needle));
  if (rows.length === 0) throw usageError(`no row matches --filter ${args.filter}; rows: ${ROWS.map((r) => r.id).join(', ')}`);

  const machine = await machineInfo();
  const machineText = describeMachine(machine);
  log(machineText);
  log(`running ${rows.length} rows, ${settings.rounds} rounds, ~${settings.seconds} s per measurement\n`);

  const started = Date.now();
  const results = [];
  const jobs = new Map(); // job id -> promise of its result, for rows that share processes
  for (const [i, row] of rows.entries()) {
    const t0 = Date.now();
    const tag = `[${i + 1}/${rows.length}] ${row.id}`;
    try {
      let pending = row.job ? jobs.get(row.job) : undefined;
      if (pending === undefined) {
        pending = runRow(row, settings);
        if (row.job) jobs.set(row.job, pending);
      }
      const shared = await pending;
      // A shared job measured more than this row shows: keep this row's keys.
      const keys = new Set(row.lines.flatMap((l) => [l.key, l.base]));
      const samples = row.job ? Object.fromEntries(Object.entries(shared.samples).filter(([k]) => keys.has(k))) : shared.samples;
      const { meta } = shared;
      const lines = evaluate(row, samples);
      const took = (Date.now() - t0) / 1000;
      const summary = lines.map((l) => `${l.self ? 'self ' : ''}${l.mode} ${l.ratio.toFixed(2)}×`).join(', ');
      log(`${tag.padEnd(30)} ${took.toFixed(1).padStart(5)} s  ${summary}`);
      results.push({ row, samples, meta, lines, seconds: took });
    } catch (error) {
      log(`${tag.padEnd(30)} ERROR\n${error.message}`);
      results.push({ row, error: error.message });
    }
  }
  const native = args.native ? runNative() : undefined;
  const wallSeconds = (Date.now() - started) / 1000;
  const loadAfter = os.loadavg().map((x) => Math.round(x * 100) / 100);

  const report = {
    machine,
    settings,
    wallSeconds,
    loadAverageAfter: loadAfter,
    rows: results.map(({ row, samples, meta, lines, seconds, error }) => ({
      id: row.id,
      title: row.title,
      unit: row.unit,
      better: row.better,
      case: row.case,
      params: row.params ?? row.isolate,
      ...(error ? { error } : { wallSeconds: seconds, lines, samples, meta }),
    })),
    ...(native ? { native } : {}),
  };

  let table = formatReport({ machineText, settings, results });
  if (native) table += `\n\nnative ring benchmark (native/test/out/ring_bench):\n${native.output ?? native.error}`;
  table += `\n\nwall time: ${wallSeconds.toFixed(1)} s; load average after: ${loadAfter.join(' ')}`;

  fs.mkdirSync(RESULTS, { recursive: true });
  const stamp = `${timestamp(machine.date)}${args.quick ? '-quick' : ''}`;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(RESULTS, `${stamp}.json`), json);
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), json);
  let chartNote;
  try {
    const { renderChart } = require('./chart');
    const png = renderChart(report);
    fs.writeFileSync(path.join(RESULTS, `${stamp}.png`), png);
    fs.writeFileSync(path.join(RESULTS, 'latest.png'), png);
    chartNote = `chart: benchmarks/results/${stamp}.png (and latest.png)`;
  } catch (error) {
    chartNote = `chart: not rendered (${error.message})`;
  }
  table += `\nresults: benchmarks/results/${stamp}.json (and latest.json)\n${chartNote}`;

  if (args.json) {
    log(`\n${table}`);
    process.stdout.write(json);
  } else {
    process.stdout.write(`\n${table}\n`);
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((error) => {
  log(error.usage ? error.message : error.stack || String(error));
  process.exitCode = 1;
});
