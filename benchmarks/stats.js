'use strict';
// Small statistics over the samples of a row.

function sorted(values) {
  return [...values].sort((a, b) => a - b);
}

function quantile(values, q) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const median = (values) => quantile(values, 0.5);

/** Relative spread of the samples: (max - min) / median. */
function spread(values) {
  if (values.length < 2) return 0;
  const s = sorted(values);
  return (s[s.length - 1] - s[0]) / median(values);
}

/**
 * Ratios of two sample series taken in the same rounds (a[i] / b[i]): each
 * pairs figures measured next to each other in time, so machine drift
 * between rounds cancels out.
 */
function pairedRatios(a, b) {
  const n = Math.min(a.length, b.length);
  const out = [];
  for (let i = 0; i < n; i++) out.push(a[i] / b[i]);
  return out;
}

function summary(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), spread: spread(values), n: values.length };
}

module.exports = { median, quantile, spread, pairedRatios, summary };
