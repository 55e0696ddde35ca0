'use strict';
// Idle channels for the scale rows: open, listening (both ports have a
// 'message' listener, as ports of a pool waiting for work), unref'd so they
// do not keep the thread alive, and never sent anything.
const noop = () => {};

function open(variant, count) {
  const channels = new Array(count);
  for (let i = 0; i < count; i++) {
    const channel = variant.newChannel();
    for (const port of [channel.port1, channel.port2]) {
      port.on('message', noop);
      port.unref();
    }
    channels[i] = channel;
  }
  return channels;
}

// Closes both ports of each channel and resolves once every port has
// emitted 'close', so that no closing handle is left for the next phase.
function close(channels) {
  return new Promise((resolve) => {
    let pending = channels.length * 2;
    if (pending === 0) resolve();
    const closed = () => {
      if (--pending === 0) resolve();
    };
    for (const { port1, port2 } of channels) {
      port1.once('close', closed);
      port2.once('close', closed);
      port1.close();
      port2.close();
    }
  });
}

module.exports = { open, close };
