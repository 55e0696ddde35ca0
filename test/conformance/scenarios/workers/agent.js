'use strict';
// Generic worker: runs the function whose source the parent passed in
// workerData.data.src as fn({ port, impl, arg, wt, require }), where `port` is
// the port the parent handed over (attached with the implementation's own
// mechanism: transferList for node, attachPort for ringport).
const wt = require('node:worker_threads');
const impl = require('../../harness/impl');

const { port, data } = wt.workerData;
const live = port == null ? null : impl.portFromParent(port);
const fn = (0, eval)(`(${data.src})`); // eslint-disable-line no-eval
fn({ port: live, impl, arg: data.arg, wt, require });
