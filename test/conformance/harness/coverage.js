#!/usr/bin/env node
'use strict';
// Prints how many scenarios cover each NODE_SEMANTICS.md section and item,
// and which numbered items no scenario names.
//   node test/conformance/harness/coverage.js
const fs = require('node:fs');
const path = require('node:path');
const drive = require('./drive');

const SECTIONS = [
  [1, 1, 7], [2, 8, 18], [3, 19, 25], [4, 26, 28], [5, 29, 35], [6, 36, 42], [7, 43, 49],
  [8, 50, 53], [9, 54, 59], [10, 60, 62], [11, 63, 65], [12, 66, 68], [13, 69, 74],
];
const sectionOf = (item) => (SECTIONS.find(([, lo, hi]) => item >= lo && item <= hi) || [null])[0];

const files = fs.readdirSync(drive.SCENARIO_DIR).filter((f) => f.endsWith('.js')).sort();
const byItem = new Map();
const bySection = new Map();
let total = 0;
let skipped = 0;
for (const f of files) {
  for (const s of drive.listScenarios(path.join(drive.SCENARIO_DIR, f))) {
    total++;
    if (s.skip) skipped++;
    const sections = new Set();
    for (const item of s.items) {
      if (!byItem.has(item)) byItem.set(item, []);
      byItem.get(item).push(`${f}: ${s.name}`);
      sections.add(sectionOf(item));
    }
    // A scenario counts once per section it touches; its primary section is that of its first item.
    const primary = sectionOf(s.items[0]);
    const entry = bySection.get(primary) || { primary: 0, touching: 0, skipped: 0 };
    entry.primary++;
    if (s.skip) entry.skipped++;
    bySection.set(primary, entry);
    for (const sec of sections) {
      if (sec === primary) continue;
      const e = bySection.get(sec) || { primary: 0, touching: 0, skipped: 0 };
      e.touching++;
      bySection.set(sec, e);
    }
  }
}
console.log(`${total} scenarios (${skipped} skipped)`);
console.log('section: scenarios whose first item is in it (skipped) + others also tagging it');
for (const [sec] of SECTIONS) {
  const e = bySection.get(sec) || { primary: 0, touching: 0, skipped: 0 };
  console.log(`  §${sec}: ${e.primary} (${e.skipped} skipped) + ${e.touching}`);
}
const missing = [];
for (let i = 1; i <= 74; i++) if (!byItem.has(i)) missing.push(i);
console.log('items per scenario count:', Array.from({ length: 74 }, (_, i) => `${i + 1}:${(byItem.get(i + 1) || []).length}`).join(' '));
console.log('items without a scenario:', missing.length ? missing.join(', ') : 'none');
