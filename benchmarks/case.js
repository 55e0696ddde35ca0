'use strict';
// Child-process entry: runs one case and prints its samples as one line,
//   RESULT {"samples": {"<key>": [..]}, "meta": {..}}
// run.js starts every case in a fresh `node --expose-gc` process, so one
// case's garbage, JIT state or leftover threads cannot touch another's.
//
//   node --expose-gc benchmarks/case.js '{"case":"stream","params":{..},"rounds":5,"seconds":0.3}'
const path = require('node:path');

async function main() {
  const job = JSON.parse(process.argv[2]);
  if (typeof global.gc !== 'function') throw new Error('run the case with node --expose-gc');
  // A lost message shows as a hang: end it with an error rather than wait forever.
  const watchdog = setTimeout(() => {
    process.stderr.write(`case ${job.case} timed out after ${job.timeout} s (lost messages or a hang?)\n`);
    process.exit(2);
  }, job.timeout * 1000);
  watchdog.unref();

  const run = require(path.join(__dirname, 'cases', `${job.case}.js`));
  const result = await run(job.params || {}, { rounds: job.rounds, seconds: job.seconds, round: job.round });
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  // Cases leave their ports and workers open (ports keep event loops alive
  // by design): the process is done, end it.
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
