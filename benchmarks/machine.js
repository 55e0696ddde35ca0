'use strict';
// Where and when the benchmark ran, for the header and the JSON.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { LIB } = require('./impls');

function cpuModel() {
  try {
    const line = fs
      .readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: os.cpus() below
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

function gitRevision() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: LIB, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'native'], { cwd: LIB, encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes in lib/ or native/` : head;
  } catch {
    return 'unknown';
  }
}

function cpuTimes() {
  let idle = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/** Share of all cores other processes kept busy during `ms` (before this run starts anything). */
async function cpuBusy(ms = 1000) {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  const total = b.total - a.total;
  return total > 0 ? Math.round((1 - (b.idle - a.idle) / total) * 100) : 0;
}

async function machineInfo() {
  const pkg = JSON.parse(fs.readFileSync(path.join(LIB, 'package.json'), 'utf8'));
  return {
    date: new Date().toISOString(),
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    uv: process.versions.uv,
    ringport: `${pkg.version} @ ${gitRevision()}`,
    ringportPath: LIB,
    // Other processes' CPU use is the largest source of noise on a small VM.
    cpuBusyBeforePercent: await cpuBusy(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function describeMachine(m) {
  return [
    `date:     ${m.date}`,
    `machine:  ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}`,
    `node:     ${m.node} (V8 ${m.v8}, libuv ${m.uv})`,
    `ringport: ${m.ringport} (${m.ringportPath})`,
    `load:     CPU ${m.cpuBusyBeforePercent}% busy in the second before the start, load average ${m.loadAverage.join(' ')}` +
      (m.cpuBusyBeforePercent >= 15 ? ' - other processes are busy: expect noisy figures' : ''),
  ].join('\n');
}

module.exports = { machineInfo, describeMachine, cpuBusy };
