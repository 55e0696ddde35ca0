'use strict';
// Normalizes a child's stderr so that two runs can be compared: no pids, no
// stack frames (they name implementation files), no absolute paths, no version banner.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');

function normalizeStderr(text) {
  return text
    .split('\n')
    .filter((line) => !/^\s+at /.test(line))
    .filter((line) => !/^Node\.js v\d+/.test(line))
    .filter((line) => !/^\(Use `node --trace-(warnings|uncaught) \.\.\.` to show where/.test(line))
    .map((line) => line.split(ROOT).join('<root>').replace(/\(node:\d+\)/g, '(node:PID)'))
    .join('\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

module.exports = { normalizeStderr };
