'use strict';
// Turns a row's samples into table lines (medians, paired ratios, target
// check) and prints them as text tables.
const { median, pairedRatios } = require('./stats');

/** Medians and the median of the per-round ratios key/base of each line of `row`. */
function evaluate(row, samples) {
  return row.lines.map((line) => {
    const values = samples[line.key] ?? [];
    const baseValues = samples[line.base] ?? [];
    const ratios = pairedRatios(values, baseValues);
    const ratio = median(ratios);
    let pass = null;
    if (line.target !== null && line.target !== undefined) {
      pass = row.better === 'higher' ? ratio >= line.target : ratio <= line.target;
    }
    return {
      mode: line.mode,
      key: line.key,
      base: line.base,
      self: line.self === true,
      value: median(values),
      baseValue: median(baseValues),
      ratios,
      ratio,
      target: line.target ?? null,
      pass,
    };
  });
}

function significant(x, digits = 3) {
  if (!Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return x.toFixed(decimals);
}

function formatValue(x, unit) {
  if (!Number.isFinite(x)) return 'n/a';
  if (unit === 'msg/s') {
    if (x >= 1e6) return `${significant(x / 1e6)} M`;
    if (x >= 1e3) return `${significant(x / 1e3)} k`;
    return significant(x);
  }
  if (unit === 'B' || unit === 'ns/msg') return Math.round(x).toLocaleString('en-US');
  return significant(x);
}

const ratioText = (x) => (Number.isFinite(x) ? `${significant(x)}×` : 'n/a');

function targetText(row, target) {
  if (target === null) return '—';
  return `${row.better === 'higher' ? '≥' : '≤'} ${Number(target.toPrecision(2))}×`;
}

function resultText(pass) {
  if (pass === null) return '';
  return pass ? 'pass' : 'FAIL';
}

function unitText(row) {
  return `${row.unit} ${row.better === 'higher' ? '↑' : '↓'}`;
}

function rangeText(ratios) {
  if (ratios.length < 2) return '';
  return `${significant(Math.min(...ratios))}–${significant(Math.max(...ratios))}`;
}

/** Pads the cells of `rows` (arrays of strings) into aligned text columns; numbers right-aligned. */
function renderTable(header, rows, rightAligned) {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => [...(r[c] ?? '')].length)));
  const pad = (text, c) => {
    const gap = ' '.repeat(widths[c] - [...text].length);
    return rightAligned.has(c) ? gap + text : text + gap;
  };
  const line = (r) => r.map((cell, c) => pad(cell ?? '', c)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** One table row per line of each result: `self` picks the idle-table lines or the others. */
function tableRows(results, self) {
  const rows = [];
  for (const { row, lines, error } of results) {
    if (error) {
      if (!self) rows.push([row.title, unitText(row), 'ERROR (below)', '', '', '', '', '', 'FAIL']);
      continue;
    }
    lines
      .filter((l) => Boolean(l.self) === self)
      .forEach((l, i) => {
        rows.push([
          i === 0 ? row.title : '',
          i === 0 ? unitText(row) : '',
          l.mode,
          formatValue(l.baseValue, row.unit),
          formatValue(l.value, row.unit),
          ratioText(l.ratio),
          rangeText(l.ratios),
          targetText(row, l.target),
          resultText(l.pass),
        ]);
      });
  }
  return rows;
}

/** The main table: every line that compares ringport with a baseline. */
function mainTable(results) {
  const header = ['row', 'unit', 'ringport mode', 'baseline', 'ringport', 'ratio', 'range', 'target', 'result'];
  return renderTable(header, tableRows(results, false), new Set([3, 4, 5, 6]));
}

/** The idle-channel table: each implementation with idle channels against itself without them. */
function idleTable(results) {
  const rows = tableRows(results, true);
  if (rows.length === 0) return null;
  const header = ['row', 'unit', 'implementation', 'without idle', 'with idle', 'with/without', 'range', 'target', 'result'];
  return renderTable(header, rows, new Set([3, 4, 5, 6]));
}

function formatReport({ machineText, settings, results }) {
  const parts = [
    machineText,
    `settings: ${settings.rounds} rounds (${settings.isolatedRounds} for the memory and idle rows), ` +
      `~${settings.seconds} s per measurement${settings.quick ? ' (--quick)' : ''}` +
      `${settings.filter ? `, filter "${settings.filter}"` : ''}`,
    '',
    'Medians over the rounds. The baseline is node:worker_threads unless the mode names another',
    'package; ratio is the median of the per-round ratios ringport/baseline',
    '(msg/s ↑: above 1× ringport is faster; µs, ns, B ↓: below 1× ringport is faster or smaller);',
    'range is the lowest and highest per-round ratio.',
    '',
    mainTable(results),
  ];
  const idle = idleTable(results);
  if (idle !== null) parts.push('', 'Scale with 10,000 idle channels on each thread (each implementation against itself):', '', idle);
  const failed = results.flatMap((r) => r.lines?.filter((l) => l.pass === false).map((l) => `${r.row.id} (${l.mode})`) ?? []);
  parts.push('', `targets: ${failed.length === 0 ? 'all met' : `missed by ${failed.join(', ')}`}`);
  for (const r of results.filter((x) => x.error)) parts.push('', `ERROR in ${r.row.id}:`, r.error);
  return parts.join('\n');
}

module.exports = { evaluate, formatReport, formatValue, significant };
