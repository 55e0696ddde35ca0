// The envelope of a message payload (format.ts): flags, the transferred
// ports' registry tokens, then the value.
import { DecodeError } from './decode';
import type { Encoder } from './encode';
import { PayloadFlags } from './format';

/** Writes the envelope; returns where the token slots are, to be filled by patchTokens. */
export function writePayloadHeader(encoder: Encoder, portCount: number): number {
  encoder.writeByte(PayloadFlags.None);
  encoder.writeVarint(portCount);
  return portCount === 0 ? 0 : encoder.reserve(8 * portCount);
}

/** Fills the token slots once the ports have been parked. */
export function patchTokens(encoder: Encoder, offset: number, tokens: readonly number[]): void {
  const at = encoder.start + offset;
  for (let i = 0; i < tokens.length; i++) encoder.dv.setFloat64(at + 8 * i, tokens[i], true);
}

export interface PayloadHeader {
  tokens: number[];
  valueStart: number;
}

const NO_TOKENS: number[] = [];
const header: PayloadHeader = { tokens: NO_TOKENS, valueStart: 0 };

/** Reads the envelope of the payload in [start, end). The result is reused by the next call. */
export function readPayloadHeader(u8: Uint8Array, dv: DataView, start: number, end: number): PayloadHeader {
  if (end - start < 2 || u8[start] !== PayloadFlags.None) throw new DecodeError('Unable to deserialize cloned data.');
  let p = start + 1;
  let count = 0;
  let shift = 0;
  for (;;) {
    if (p >= end || shift > 21) throw new DecodeError('Unable to deserialize cloned data.');
    const b = u8[p++];
    count |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (count === 0) {
    header.tokens = NO_TOKENS;
  } else {
    if (count > (end - p) / 8) throw new DecodeError('Unable to deserialize cloned data.');
    const tokens = new Array<number>(count);
    for (let i = 0; i < count; i++) tokens[i] = dv.getFloat64(p + 8 * i, true);
    header.tokens = tokens;
    p += 8 * count;
  }
  header.valueStart = p;
  return header;
}
