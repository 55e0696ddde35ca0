// The envelope of a message payload (format.ts): flags, the transferred
// ports' registry tokens, the value, and, when Node's serializer carries part
// of the message, a trailer saying where that part is (foreign.ts).
import { DecodeError } from './decode';
import type { Encoder } from './encode';
import { FOREIGN_TRAILER, PayloadFlags, Tag } from './format';

/**
 * The payload size of a message that is one primitive postMessage writes
 * without an encoder (a number, a string of fewer than 128 code units,
 * a boolean, null or undefined), or 0 for anything else. Same bytes as the
 * encoder writes for it.
 */
export function primitivePayloadSize(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return (value | 0) === value && (value !== 0 || 1 / value > 0) ? 7 : 11;
    case 'string':
      return value.length < 128 ? 4 + value.length : 0;
    case 'boolean':
    case 'undefined':
      return 3;
    case 'object':
      return value === null ? 3 : 0;
    default:
      return 0;
  }
}

/** Writes the payload sized by primitivePayloadSize() at `at`; false if the string is not Latin-1. */
export function writePrimitivePayload(u8: Uint8Array, dv: DataView, at: number, value: unknown): boolean {
  u8[at] = PayloadFlags.None;
  u8[at + 1] = 0; // no ports
  const p = at + 2;
  switch (typeof value) {
    case 'number':
      if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
        u8[p] = Tag.Int32;
        dv.setInt32(p + 1, value, true);
      } else {
        u8[p] = Tag.Double;
        dv.setFloat64(p + 1, value, true);
      }
      return true;
    case 'string': {
      const n = value.length;
      u8[p] = Tag.Latin1;
      u8[p + 1] = n;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c > 0xff) return false;
        u8[p + 2 + i] = c;
      }
      return true;
    }
    case 'boolean':
      u8[p] = value ? Tag.True : Tag.False;
      return true;
    default:
      u8[p] = value === null ? Tag.Null : Tag.Undefined;
      return true;
  }
}

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

/** Where the part Node's serializer carries is, and how it is laid out. */
export interface ForeignTrailer {
  origin: number;
  seq: number;
  destination: number;
  /** Values the encoding refers to by index. */
  values: number;
  /** Node MessagePorts of the transfer list that follow them. */
  nodePorts: number;
  /** Waiting items of transferred ringport ports that follow those. */
  bundles: number;
}

/**
 * Appends the trailer and flags the payload as having one. Where the items
 * are (`ref`) and their counts come separately: merging them into one
 * ForeignTrailer object per message cost more than the rest of a large
 * transfer's post.
 */
export function writeForeignTrailer(
  encoder: Encoder,
  ref: Pick<ForeignTrailer, 'origin' | 'seq' | 'destination'>,
  values: number,
  nodePorts: number,
  bundles: number,
): void {
  const at = encoder.reserve(FOREIGN_TRAILER) + encoder.start;
  const dv = encoder.dv;
  dv.setFloat64(at, ref.origin, true);
  dv.setFloat64(at + 8, ref.seq, true);
  dv.setFloat64(at + 16, ref.destination, true);
  dv.setUint32(at + 24, values, true);
  dv.setUint32(at + 28, nodePorts, true);
  dv.setUint32(at + 32, bundles, true);
  encoder.u8[encoder.start] |= PayloadFlags.HasForeign;
}

export interface PayloadHeader {
  tokens: number[];
  valueStart: number;
  valueEnd: number;
  foreign: ForeignTrailer | null;
}

const NO_TOKENS: number[] = [];
const header: PayloadHeader = { tokens: NO_TOKENS, valueStart: 0, valueEnd: 0, foreign: null };

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function corrupt(): never {
  throw new DecodeError('Unable to deserialize cloned data.');
}

/** Reads the envelope of the payload in [start, end). The result is reused by the next call. */
export function readPayloadHeader(u8: Uint8Array, dv: DataView, start: number, end: number): PayloadHeader {
  if (end - start < 2) corrupt();
  const flags = u8[start];
  if (flags & ~PayloadFlags.HasForeign) corrupt();
  let p = start + 1;
  let count = 0;
  let shift = 0;
  for (;;) {
    if (p >= end || shift > 21) corrupt();
    const b = u8[p++];
    count |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (count === 0) {
    header.tokens = NO_TOKENS;
  } else {
    if (count > (end - p) / 8) corrupt();
    const tokens = new Array<number>(count);
    for (let i = 0; i < count; i++) tokens[i] = dv.getFloat64(p + 8 * i, true);
    header.tokens = tokens;
    p += 8 * count;
  }
  header.valueStart = p;
  header.valueEnd = end;
  header.foreign = null;
  if (flags & PayloadFlags.HasForeign) {
    if (end - p < FOREIGN_TRAILER) corrupt();
    const at = end - FOREIGN_TRAILER;
    header.valueEnd = at;
    header.foreign = {
      origin: dv.getFloat64(at, true),
      seq: dv.getFloat64(at + 8, true),
      destination: dv.getFloat64(at + 16, true),
      values: dv.getUint32(at + 24, true),
      nodePorts: dv.getUint32(at + 28, true),
      bundles: dv.getUint32(at + 32, true),
    };
    // Thread ids and places on a link are non-negative integers.
    const { origin, seq, destination } = header.foreign;
    if (!isIndex(origin) || !isIndex(seq) || !isIndex(destination)) corrupt();
  }
  return header;
}
