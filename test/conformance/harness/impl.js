'use strict';
// The implementation under test, chosen by the IMPL environment variable:
//   IMPL=node      node:worker_threads
//   IMPL=ringport  the built package at the repository root (dist/)
// Scenarios only ever reach MessageChannel & co. through this module, so the
// same scenario code runs against both. Worker threads inherit IMPL through
// process.env and require this module too.
const path = require('node:path');
const wt = require('node:worker_threads');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const IMPL = process.env.IMPL || 'node';

let api;
if (IMPL === 'node') {
  api = {
    MessageChannel: wt.MessageChannel,
    MessagePort: wt.MessagePort,
    receiveMessageOnPort: wt.receiveMessageOnPort,
    MessageEvent: globalThis.MessageEvent,
    moveMessagePortToContext: wt.moveMessagePortToContext,
    BroadcastChannel: wt.BroadcastChannel,
    Worker: wt.Worker,
    parentPort: wt.parentPort,
    workerData: wt.workerData,
  };
} else if (IMPL === 'ringport') {
  const ringport = require(ROOT);
  api = {
    MessageChannel: ringport.MessageChannel,
    MessagePort: ringport.MessagePort,
    receiveMessageOnPort: ringport.receiveMessageOnPort,
    MessageEvent: ringport.MessageEvent,
    // Not implemented by ringport yet (sections 11 and 12): the scenarios
    // that use these are skipped; Node's functions reject ringport ports.
    moveMessagePortToContext: ringport.moveMessagePortToContext || wt.moveMessagePortToContext,
    BroadcastChannel: ringport.BroadcastChannel,
    // ringport's Worker (item 62): its messages and parentPort are ringport's.
    Worker: ringport.Worker,
    parentPort: ringport.parentPort,
    workerData: ringport.workerData,
    ringport,
  };
} else {
  throw new Error(`unknown IMPL ${IMPL}`);
}

function isPort(value) {
  return typeof value === 'object' && value !== null && value instanceof api.MessagePort;
}

/** How to hand `port` to another thread: { value, transferList } for workerData / worker.postMessage. */
function portToWorker(port) {
  if (IMPL === 'node') return { value: port, transferList: [port] };
  return { value: api.ringport.detachPort(port), transferList: [] };
}

/** The live port, in this thread, behind what portToWorker() produced in the other thread. */
function portFromParent(value) {
  if (IMPL === 'node') return value;
  return api.ringport.attachPort(value);
}

/** new Worker(file) with `port` (may be null) handed over in workerData.port and `data` in workerData.data. */
function startWorker(file, port, data, options = {}) {
  const handed = port ? portToWorker(port) : { value: null, transferList: [] };
  return new wt.Worker(file, {
    ...options,
    workerData: { port: handed.value, data },
    transferList: handed.transferList,
  });
}

/** worker.postMessage({ port, data }) with the port handed over as the implementation needs. */
function sendPortToWorker(worker, port, data) {
  const handed = portToWorker(port);
  worker.postMessage({ port: handed.value, data }, handed.transferList);
}

module.exports = {
  IMPL,
  ROOT,
  ...api,
  isPort,
  portToWorker,
  portFromParent,
  startWorker,
  sendPortToWorker,
};
