'use strict';
// Scenario registry. A scenario file does
//   const scenario = require('../harness/define')(module);
//   scenario('name', [items of NODE_SEMANTICS.md], async (t) => { ... }, options);
// options:
//   isolated: true     run alone in a fresh process, started from the main
//                      script; the outcome then also has the exit code, signal
//                      and normalized stderr (exit/liveness/warning/crash behaviour)
//   flags: [...]       extra node flags for the child process (isolated only)
//   timeout: ms        per-scenario limit (default 5000 in-process, 10000 isolated)
//   skip: 'reason'     not run by the jest suite (not implemented by ringport yet)
//   expected: value    not differential: the ringport outcome's log must equal
//                      this (documented expectation), e.g. where Node crashes
//   reason: '...'      why a scenario is not differential
//   excerptDiffers: true  a fatal error's source excerpt (the lines above the
//                      error, naming where it was thrown) is not compared;
//                      `reason` says why (a documented difference)
module.exports = function define(mod) {
  const list = [];
  mod.exports = list;
  function scenario(name, items, run, options = {}) {
    if (list.some((s) => s.name === name)) throw new Error(`duplicate scenario name ${name}`);
    list.push({ name, items, run, ...options });
  }
  scenario.isolated = (name, items, run, options = {}) => scenario(name, items, run, { ...options, isolated: true });
  return scenario;
};
