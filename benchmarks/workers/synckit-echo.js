'use strict';
// synckit's worker side for the synchronous-call row: doubles the argument.
const { runAsWorker } = require('synckit');

runAsWorker(async (x) => x * 2);
