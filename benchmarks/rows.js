'use strict';
// What `npm run bench` measures: one entry per row, run as a child process
// (or one per implementation and round when `isolate` is set; rows with the
// same `job` share those processes), and the table lines it yields. A line
// compares the samples `key` with `base` round by round; the ratio is
// key / base, so for `better: 'higher'` rows (msg/s) more is better and the
// target is a minimum, for `better: 'lower'` rows (time, bytes) less is
// better and the target is a maximum. `self` lines go to the idle table.
const STREAM_VARIANTS = ['node', 'ringport', 'ringport-batch'];

/** Lines of a stream row: ringport default and batch, each against the same Node figure. */
function streamLines(defaultTarget, batchTarget) {
  return [
    { key: 'ringport', base: 'node', mode: 'default', target: defaultTarget },
    { key: 'ringport-batch', base: 'node', mode: 'batch', target: batchTarget },
  ];
}

function streamRow(id, payload, title, defaultTarget, batchTarget, listener = 'on') {
  return {
    id,
    title,
    unit: 'msg/s',
    better: 'higher',
    case: 'stream',
    params: { payload, listener, variants: STREAM_VARIANTS },
    lines: streamLines(defaultTarget, batchTarget),
  };
}

// Both idle rows come from one job: a process per library and round that
// measures the round trip and the stream with and without idle channels.
// One process per library: Node's idle ports would slow ringport's wake-ups too.
const IDLE_JOB = {
  case: 'idle',
  job: 'idle',
  isolate: [
    { lib: 'node', roundtrip: ['node'], stream: ['node'], payload: 'object' },
    { lib: 'ringport', roundtrip: ['ringport', 'ringport-spin'], stream: ['ringport', 'ringport-batch'], payload: 'object' },
  ],
};

// "Within 10% of its own figure without idle channels".
const IDLE_SLACK = 1.1; // latency: at most 10% higher
const IDLE_FLOOR = 0.9; // throughput: at least 90%

const ROWS = [
  streamRow('stream-int', 'int', 'stream → worker: small integer', 5, 12),
  streamRow('stream-str16', 'str16', 'stream → worker: 16-char string', 5, 12),
  streamRow('stream-object', 'object', 'stream → worker: small object', 3, 5),
  streamRow('stream-u8-1k', 'u8_1k', 'stream → worker: 1 KiB Uint8Array (copied)', 5, 8),
  streamRow('stream-u8-64k', 'u8_64k', 'stream → worker: 64 KiB Uint8Array (copied)', 4, 4),
  streamRow('stream-ab-1m', 'ab_1m', 'stream → worker: 1 MiB ArrayBuffer (transferred)', 1, 1),
  streamRow('stream-object-event', 'object', 'stream → worker: small object, addEventListener', 3, 5, 'addEventListener'),
  {
    id: 'fanin',
    title: 'fan-in: 4 workers → main, small objects',
    unit: 'msg/s',
    better: 'higher',
    case: 'fanin',
    params: { workers: 4, payload: 'object', variants: STREAM_VARIANTS },
    lines: streamLines(3, 6),
  },
  {
    id: 'broadcast',
    title: 'BroadcastChannel: main → 4 workers, small objects',
    unit: 'msg/s',
    better: 'higher',
    case: 'broadcast',
    params: { workers: 4, payload: 'object', variants: ['node', 'ringport'] },
    lines: [{ key: 'ringport', base: 'node', mode: 'default', target: null }],
  },
  {
    id: 'roundtrip',
    title: 'round trip main ↔ worker',
    unit: 'µs',
    better: 'lower',
    case: 'roundtrip',
    params: { variants: ['node', 'ringport', 'ringport-spin'] },
    lines: [
      { key: 'ringport', base: 'node', mode: 'default', target: 1 },
      { key: 'ringport-spin', base: 'node', mode: 'spin 50 µs', target: 0.1 },
    ],
  },
  {
    id: 'sync',
    title: 'synchronous call main → worker → main',
    unit: 'µs',
    better: 'lower',
    case: 'sync',
    params: { variants: ['ringport', 'ringport-spin', 'synckit', 'sync-message-port'] },
    lines: [
      { key: 'ringport', base: 'synckit', mode: 'vs synckit', target: 1 },
      { key: 'ringport', base: 'sync-message-port', mode: 'vs sync-message-port', target: 1 },
      { key: 'ringport-spin', base: 'synckit', mode: 'spin 50 µs vs synckit', target: null },
    ],
  },
  {
    id: 'backpressure',
    title: 'stream → worker awaiting drain: 4 KiB strings, highWaterMark 1 MiB',
    unit: 'MiB/s',
    better: 'higher',
    case: 'backpressure',
    params: { variants: ['ringport', 'thread-stream'] },
    lines: [{ key: 'ringport', base: 'thread-stream', mode: 'vs thread-stream', target: 1 }],
  },
  {
    id: 'worker-stream',
    title: 'Worker.postMessage stream (small object)',
    unit: 'msg/s',
    better: 'higher',
    case: 'worker-api',
    params: { mode: 'stream', variants: ['node', 'ringport'] },
    lines: [{ key: 'ringport', base: 'node', mode: 'Worker', target: 3 }],
  },
  {
    id: 'worker-roundtrip',
    title: 'Worker round trip',
    unit: 'µs',
    better: 'lower',
    case: 'worker-api',
    params: { mode: 'roundtrip', variants: ['node', 'ringport'] },
    lines: [{ key: 'ringport', base: 'node', mode: 'Worker', target: 1 }],
  },
  {
    id: 'receive',
    title: 'same thread: post + receiveMessageOnPort, small object',
    unit: 'ns/msg',
    better: 'lower',
    case: 'receive',
    params: { variants: ['node', 'ringport'] },
    lines: [{ key: 'ringport', base: 'node', mode: 'default', target: null }],
  },
  {
    id: 'create',
    title: 'new MessageChannel() + close() both ports',
    unit: 'µs',
    better: 'lower',
    case: 'create',
    params: { variants: ['node', 'ringport'] },
    lines: [{ key: 'ringport', base: 'node', mode: 'default', target: 1 }],
  },
  {
    id: 'memory',
    title: 'memory per open channel (10,000 open)',
    unit: 'B',
    better: 'lower',
    case: 'memory',
    // One process per implementation: RSS must see one library only.
    isolate: [{ variant: 'node' }, { variant: 'ringport' }],
    lines: [
      { key: 'ringport', base: 'node', mode: 'RSS', target: 1 },
      { key: 'ringport:heap', base: 'node:heap', mode: 'heap+external', target: 1 },
    ],
  },
  {
    id: 'idle-roundtrip',
    title: 'round trip, 10,000 idle channels per thread',
    unit: 'µs',
    better: 'lower',
    ...IDLE_JOB,
    lines: [
      { key: 'roundtrip:ringport+idle', base: 'roundtrip:node+idle', mode: 'default', target: null },
      { key: 'roundtrip:ringport-spin+idle', base: 'roundtrip:node+idle', mode: 'spin 50 µs', target: null },
      { key: 'roundtrip:ringport+idle', base: 'roundtrip:ringport', mode: 'default', target: IDLE_SLACK, self: true },
      { key: 'roundtrip:ringport-spin+idle', base: 'roundtrip:ringport-spin', mode: 'spin 50 µs', target: IDLE_SLACK, self: true },
      { key: 'roundtrip:node+idle', base: 'roundtrip:node', mode: 'Node', target: null, self: true },
    ],
  },
  {
    id: 'idle-stream',
    title: 'stream → worker: small object, 10,000 idle channels per thread',
    unit: 'msg/s',
    better: 'higher',
    ...IDLE_JOB,
    lines: [
      { key: 'stream:ringport+idle', base: 'stream:node+idle', mode: 'default', target: null },
      { key: 'stream:ringport-batch+idle', base: 'stream:node+idle', mode: 'batch', target: null },
      { key: 'stream:ringport+idle', base: 'stream:ringport', mode: 'default', target: IDLE_FLOOR, self: true },
      { key: 'stream:ringport-batch+idle', base: 'stream:ringport-batch', mode: 'batch', target: IDLE_FLOOR, self: true },
      { key: 'stream:node+idle', base: 'stream:node', mode: 'Node', target: null, self: true },
    ],
  },
];

module.exports = { ROWS };
