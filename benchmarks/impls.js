'use strict';
// The implementations under test, behind one small interface so that every
// case drives node:worker_threads and ringport with the same code.
//
// A "variant" is an implementation plus delivery options: ringport's modes
// are separate variants, each compared with the same Node figure of a round.
const path = require('node:path');
const workerThreads = require('node:worker_threads');

// The ringport build under test: this repository, or another checkout's
// (RINGPORT_BENCH_LIB=/path/to/ringport) to compare two builds' figures.
const LIB = process.env.RINGPORT_BENCH_LIB ? path.resolve(process.env.RINGPORT_BENCH_LIB) : path.join(__dirname, '..');

const VARIANTS = {
  node: { lib: 'node', options: undefined, label: 'Node' },
  ringport: { lib: 'ringport', options: undefined, label: 'ringport' },
  'ringport-batch': { lib: 'ringport', options: { batch: true }, label: 'ringport batch' },
  'ringport-spin': { lib: 'ringport', options: { spin: 50 }, label: 'ringport spin 50 µs' },
};

let ringport = null;
// ringport is loaded only by processes that use it, so a Node-only process
// (memory, idle-channel cases) carries none of its code or native state.
function loadRingport() {
  if (ringport === null) ringport = require(LIB);
  return ringport;
}

function variantSpec(name) {
  const spec = VARIANTS[name];
  if (spec === undefined) throw new Error(`unknown variant ${JSON.stringify(name)}`);
  return spec;
}

/** The API of one variant: channel creation, synchronous receive, and moving ports between threads. */
function loadVariant(name) {
  const spec = variantSpec(name);
  if (spec.lib === 'node') {
    return {
      name,
      lib: 'node',
      newChannel: () => new workerThreads.MessageChannel(),
      receiveMessageOnPort: workerThreads.receiveMessageOnPort,
      // Node's ports travel in a transfer list.
      handOff: (port) => ({ value: port, transfer: [port] }),
      takeOver: (value) => value,
    };
  }
  const rp = loadRingport();
  const options = spec.options;
  return {
    name,
    lib: 'ringport',
    newChannel: () => new rp.MessageChannel(options),
    receiveMessageOnPort: rp.receiveMessageOnPort,
    // Node's serializer does not know ringport ports: hand over a detached handle.
    handOff: (port) => ({ value: rp.detachPort(port), transfer: [] }),
    takeOver: (value) => rp.attachPort(value),
  };
}

module.exports = { VARIANTS, LIB, variantSpec, loadVariant };
