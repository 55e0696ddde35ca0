#!/usr/bin/env node
'use strict';
// Command-line report (no jest): runs scenario files under two
// implementations and prints, per scenario, PASS / FAIL (with the first
// differences) / NODE-PROBLEM / SKIP.
//   node test/conformance/harness/report.js [file-or-prefix ...] [options]
//     --a=node --b=ringport   implementations to compare (default node vs ringport)
//     --skipped               also run scenarios marked skip
//     --only=REGEX            only scenarios whose name matches
//     --json=FILE             write all outcomes to FILE
//     --diffs=N               differences shown per failing scenario (default 6)
const fs = require('node:fs');
const path = require('node:path');
const drive = require('./drive');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const implA = opt('a', 'node');
const implB = opt('b', 'ringport');
const includeSkipped = args.includes('--skipped');
const only = opt('only', null);
const jsonOut = opt('json', null);
const maxDiffs = Number(opt('diffs', '6'));
const fileArgs = args.filter((x) => !x.startsWith('--'));

let files = fs
  .readdirSync(drive.SCENARIO_DIR)
  .filter((f) => f.endsWith('.js'))
  .sort();
if (fileArgs.length) files = files.filter((f) => fileArgs.some((p) => f.startsWith(p) || f === p));

function stable(v) {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v === undefined ? null : v);
}

function show(v) {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

function diff(a, b, at = '', out = []) {
  if (out.length >= maxDiffs) return out;
  if (stable(a) === stable(b)) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a)
      ? Array.from({ length: Math.max(a.length, b.length) }, (_, i) => i)
      : [...new Set([...Object.keys(a), ...Object.keys(b)])];
    // For logs: if lengths differ, report lengths too.
    if (Array.isArray(a) && a.length !== b.length) out.push(`${at || '.'} length ${a.length} vs ${b.length}`);
    for (const k of keys) diff(a[k], b[k], `${at}${Array.isArray(a) ? `[${k}]` : `.${k}`}`, out);
    return out;
  }
  out.push(`${at || '.'}:\n        ${implA}: ${show(a)}\n        ${implB}: ${show(b)}`);
  return out;
}

(async () => {
  const all = {};
  const counts = { pass: 0, fail: 0, nodeProblem: 0, skip: 0, expectedPass: 0, expectedFail: 0 };
  const started = Date.now();
  for (const f of files) {
    const file = path.join(drive.SCENARIO_DIR, f);
    let list = drive.listScenarios(file);
    if (only) list = list.filter((s) => new RegExp(only).test(s.name));
    const results = await drive.runFile(file, list, { implA, implB, includeSkipped });
    all[f] = results;
    for (const s of list) {
      const r = results[s.name];
      const tag = `${f.replace(/\.js$/, '')} › ${s.name}`;
      if (!r) {
        counts.skip++;
        console.log(`SKIP  ${tag}  (${s.skip})`);
        continue;
      }
      if (s.expected !== null) {
        const got = r.b && r.b.log;
        if (stable(got) === stable(s.expected)) {
          counts.expectedPass++;
          console.log(`PASS  ${tag}  [expected-mode]`);
        } else {
          counts.expectedFail++;
          console.log(`FAIL  ${tag}  [expected-mode]`);
          for (const d of diff(s.expected, got, 'log')) console.log(`      ${d}`);
          if (r.b && r.b.debugStack) console.log(`      ${r.b.debugStack.replace(/\n/g, '\n      ')}`);
        }
        continue;
      }
      const problem = drive.nodeProblem(r.a, s);
      if (problem) {
        counts.nodeProblem++;
        console.log(`NODE-PROBLEM  ${tag}: ${problem}`);
        continue;
      }
      const a = drive.comparable(r.a, s);
      const b = drive.comparable(r.b, s);
      if (stable(a) === stable(b)) {
        counts.pass++;
        console.log(`PASS  ${tag}`);
      } else {
        counts.fail++;
        console.log(`FAIL  ${tag}`);
        for (const d of diff(a, b)) console.log(`      ${d}`);
        if (r.b && r.b.debugStack) console.log(`      ${implB} stack: ${r.b.debugStack.replace(/\n/g, '\n      ')}`);
      }
    }
  }
  console.log(`\n${JSON.stringify(counts)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(all, null, 1));
})();
