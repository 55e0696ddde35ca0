'use strict';
// The PNG chart: one horizontal bar per table line, showing how many times
// better ringport is (log scale; 1× = same as the baseline), with the target
// marked. Drawn as SVG here and rasterized by @resvg/resvg-js (a prebuilt
// binary shipped inside the npm package, no browser), with DejaVu Sans from
// the dejavu-fonts-ttf package so the text renders on machines without fonts.
const fs = require('node:fs');
const path = require('node:path');

const COLORS = { pass: '#2e9e5b', fail: '#d64545', none: '#7f95b8', text: '#222', grid: '#ddd', axis: '#555' };

const WIDTH = 1300;
const LABEL_WIDTH = 560;
const PLOT_LEFT = LABEL_WIDTH + 20;
const PLOT_RIGHT = WIDTH - 90;
const BAR = 18;
const STEP = 26;

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** "Times better" is the ratio for higher-is-better rows and its inverse for time and memory rows. */
function advantage(better, x) {
  return better === 'higher' ? x : 1 / x;
}

function fontFiles() {
  try {
    const dir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
  } catch {
    return [];
  }
}

function collectBars(report) {
  const sections = [
    { title: 'ringport against node:worker_threads (same round)', bars: [] },
    { title: 'with 10,000 idle channels per thread, against the same implementation without them', bars: [] },
  ];
  for (const row of report.rows) {
    if (row.error) {
      sections[0].bars.push({ label: `${row.title}: ERROR`, error: true });
      continue;
    }
    for (const line of row.lines) {
      if (!Number.isFinite(line.ratio)) continue;
      sections[line.self ? 1 : 0].bars.push({
        label: `${row.title} — ${line.mode}`,
        value: advantage(row.better, line.ratio),
        ratio: line.ratio,
        target: line.target === null ? null : advantage(row.better, line.target),
        pass: line.pass,
      });
    }
  }
  return sections.filter((s) => s.bars.length > 0);
}

function niceTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks;
}

function renderSvg(report) {
  const sections = collectBars(report);
  const values = sections.flatMap((s) => s.bars.flatMap((b) => [b.value, b.target].filter((v) => Number.isFinite(v))));
  const lo = Math.min(0.05, ...values.map((v) => v / 1.3));
  const hi = Math.max(20, ...values.map((v) => v * 1.3));
  const x = (v) => PLOT_LEFT + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (PLOT_RIGHT - PLOT_LEFT);

  const m = report.machine;
  const top = 96;
  const barCount = sections.reduce((n, s) => n + s.bars.length, 0);
  const height = top + sections.length * 34 + barCount * STEP + 110;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans" font-size="13">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="20" y="32" font-size="20" font-weight="bold" fill="${COLORS.text}">ringport vs node:worker_threads — times better (log scale, 1× = same)</text>`);
  out.push(
    `<text x="20" y="56" fill="${COLORS.axis}">${escape(`${m.cpu}, ${m.cores} cores · Node ${m.node} · ${m.date} · ringport ${m.ringport}`)}</text>`,
  );
  out.push(
    `<text x="20" y="76" fill="${COLORS.axis}">${escape(
      `msg/s rows: ringport/Node; µs, ns and bytes rows: Node/ringport. ${report.settings.rounds} rounds, median of per-round ratios.${
        report.settings.quick ? ' (--quick)' : ''
      }`,
    )}</text>`,
  );

  let y = top;
  const plotTop = top;
  for (const section of sections) {
    y += 24;
    out.push(`<text x="20" y="${y}" font-weight="bold" fill="${COLORS.text}">${escape(section.title)}</text>`);
    y += 10;
    for (const bar of section.bars) {
      const mid = y + STEP / 2;
      out.push(`<text x="${LABEL_WIDTH}" y="${mid + 4}" text-anchor="end" fill="${COLORS.text}">${escape(bar.label)}</text>`);
      if (bar.error) {
        out.push(`<text x="${PLOT_LEFT}" y="${mid + 4}" fill="${COLORS.fail}">error: see the JSON</text>`);
      } else {
        const color = bar.pass === null ? COLORS.none : bar.pass ? COLORS.pass : COLORS.fail;
        const x0 = x(1);
        const x1 = x(bar.value);
        out.push(`<rect x="${Math.min(x0, x1)}" y="${mid - BAR / 2}" width="${Math.max(1, Math.abs(x1 - x0))}" height="${BAR}" fill="${color}"/>`);
        if (bar.target !== null) {
          const tx = x(bar.target);
          out.push(`<line x1="${tx}" y1="${mid - BAR / 2 - 3}" x2="${tx}" y2="${mid + BAR / 2 + 3}" stroke="#000" stroke-width="2.5"/>`);
        }
        // The figure goes past the end of the bar (and its target tick), or
        // right of the 1× line when a bar to the left leaves no room.
        const text = `${bar.value >= 10 ? bar.value.toFixed(1) : bar.value.toPrecision(2)}×`;
        const ends = [x1, ...(bar.target !== null ? [x(bar.target)] : [])];
        let right = bar.value >= 1;
        let labelX = right ? Math.max(...ends) + 6 : Math.min(...ends) - 6;
        if (!right && labelX - text.length * 7.5 < PLOT_LEFT) {
          right = true;
          labelX = Math.max(x0, ...ends) + 6;
        }
        out.push(
          `<text x="${labelX}" y="${mid + 4}" text-anchor="${right ? 'start' : 'end'}" font-size="12" fill="${COLORS.text}">${escape(text)}</text>`,
        );
      }
      y += STEP;
    }
  }
  const plotBottom = y + 6;

  // Grid and axis, drawn under the bars' labels but over the background.
  const grid = [];
  for (const t of niceTicks(lo, hi)) {
    const gx = x(t);
    grid.push(`<line x1="${gx}" y1="${plotTop}" x2="${gx}" y2="${plotBottom}" stroke="${t === 1 ? COLORS.axis : COLORS.grid}" stroke-width="${t === 1 ? 1.5 : 1}"/>`);
    grid.push(`<text x="${gx}" y="${plotBottom + 18}" text-anchor="middle" font-size="12" fill="${COLORS.axis}">${t}×</text>`);
  }
  out.splice(2, 0, ...grid);

  const ly = plotBottom + 50;
  const legend = [
    [COLORS.pass, 'meets its target'],
    [COLORS.fail, 'misses its target'],
    [COLORS.none, 'no target'],
  ];
  let lx = PLOT_LEFT;
  for (const [color, text] of legend) {
    out.push(`<rect x="${lx}" y="${ly - 11}" width="14" height="14" fill="${color}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly}" fill="${COLORS.text}">${text}</text>`);
    lx += 170;
  }
  out.push(`<line x1="${lx}" y1="${ly - 13}" x2="${lx}" y2="${ly + 3}" stroke="#000" stroke-width="2.5"/>`);
  out.push(`<text x="${lx + 8}" y="${ly}" fill="${COLORS.text}">target</text>`);
  out.push(`<text x="${(PLOT_LEFT + PLOT_RIGHT) / 2}" y="${plotBottom + 36}" text-anchor="middle" fill="${COLORS.axis}">← worse · times better than the baseline · better →</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function renderChart(report) {
  const { Resvg } = require('@resvg/resvg-js');
  const files = fontFiles();
  const resvg = new Resvg(renderSvg(report), {
    font: { fontFiles: files, loadSystemFonts: files.length === 0, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}

module.exports = { renderChart, renderSvg };

// Re-renders a chart from a results file:
//   node benchmarks/chart.js benchmarks/results/latest.json out.png
if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: node benchmarks/chart.js RESULTS.json OUT.png\n');
    process.exit(2);
  }
  fs.writeFileSync(output, renderChart(JSON.parse(fs.readFileSync(input, 'utf8'))));
}
