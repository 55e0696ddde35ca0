// Per-port delivery options (the per-channel ones go to new MessageChannel()).
import type { DeliveryOptions, ResolvedDeliveryOptions } from './options';
import { getOptions, setOptions, type MessagePort } from './port';

/**
 * Changes how `port` receives: batch delivery and spin-before-sleep (README,
 * "Delivery modes"), and the high-water mark of what it sends (README,
 * "Backpressure"). The options travel with the port when it is transferred.
 */
export function setPortOptions(port: MessagePort, options: DeliveryOptions): void {
  setOptions(port, options);
}

/** The delivery options in effect for `port`. */
export function getPortOptions(port: MessagePort): ResolvedDeliveryOptions {
  return getOptions(port);
}
