'use strict';
// thread-stream's worker side for the backpressure row: a destination that
// takes every chunk at once (as ringport's consumer listener does).
const { Writable } = require('node:stream');

module.exports = async function sink() {
  return new Writable({
    write(chunk, encoding, callback) {
      callback();
    },
  });
};
