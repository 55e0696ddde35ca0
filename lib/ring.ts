// The producer and consumer halves of native/ring.h, run from JavaScript over
// external ArrayBuffers that map the native segments: posting a message is a
// write into shared memory and one atomic store, with no native call unless
// the segment must grow or the consumer sleeps.
import { layout, type PortHandle } from './binding';
import type { EncodeContext, Encoder } from './codec/encode';

const TAIL = layout.tailWord;
const HEAD = layout.headWord;
const HEADER = layout.recordHeader;
const DATA = layout.segmentHeaderBytes;
const MAX_PAYLOAD = layout.maxPayload;
const MAX_CAPACITY = layout.maxCapacity;
const CHAIN_CAPACITY = layout.chainCapacity;
const KIND_MESSAGE = layout.kindMessage;
const KIND_WRAP = layout.kindWrap;
const KIND_NEXT = layout.kindNext;

export const KIND_CLOSE = layout.kindClose;
export const AWAKE = 0;
export const SLEEPING = 1;
/** Capacity of a new ring; rings grow by doubling and shrink back after a burst. */
export const INITIAL_CAPACITY = 256;
// An encoder starting with less contiguous room than this wraps first.
const MIN_DIRECT_ROOM = 256;

function align(n: number): number {
  return (n + 7) & ~7;
}

/** native/ring.h GrownCapacity. */
function grownCapacity(capacity: number, recordBytes: number): number {
  let c = Math.max(Math.min(capacity * 2, CHAIN_CAPACITY), 2 * recordBytes + HEADER);
  let p = layout.minCapacity;
  while (p < c && p < MAX_CAPACITY) p *= 2;
  c = p;
  return c;
}

/** The writing end of a ring. One per port, used only by the port's thread. */
export class Producer {
  private view!: ArrayBuffer;
  private i32!: Int32Array;
  private u8!: Uint8Array;
  private dv!: DataView;
  private capacity = 0;
  private mask = 0;
  private tail = 0;
  private cachedHead = 0;
  /** Messages published so far (tells a pause in the stream). */
  commits = 0;
  /** The encoder writing into this ring right now, if any (a getter may post on the same port). */
  private active: Encoder | null = null;

  constructor(private readonly handle: PortHandle) {
    this.map(handle.outgoing());
  }

  private map(view: ArrayBuffer): void {
    this.view = view;
    this.i32 = new Int32Array(view, 0, DATA >> 2);
    this.u8 = new Uint8Array(view, DATA);
    this.dv = new DataView(view, DATA);
    this.capacity = this.u8.length;
    this.mask = this.capacity - 1;
    this.tail = Atomics.load(this.i32, TAIL);
    this.cachedHead = Atomics.load(this.i32, HEAD);
  }

  /** Free bytes, refreshing the consumer's position when it looks tight. */
  private free(wanted: number): number {
    let free = this.capacity - ((this.tail - this.cachedHead) | 0);
    if (free < wanted) {
      this.cachedHead = Atomics.load(this.i32, HEAD);
      free = this.capacity - ((this.tail - this.cachedHead) | 0);
    }
    return free;
  }

  /** Points `encoder` at the free space after the tail for a new message. */
  begin(encoder: Encoder, context: EncodeContext): void {
    // A getter of the message being written posts on this port: the first
    // message moves out of the ring and is copied in after this one.
    if (this.active !== null) this.active.spill(0);
    let pos = this.tail & this.mask;
    const toEnd = this.capacity - pos;
    let free = this.free(MIN_DIRECT_ROOM + 2 * HEADER);
    // Room for the payload: contiguous, after the record header, keeping one
    // header free for a marker.
    let room = Math.min(toEnd, free - HEADER) - HEADER;
    if (room < MIN_DIRECT_ROOM && free - toEnd - 2 * HEADER > room) {
      this.wrap(pos, toEnd);
      free -= toEnd;
      pos = 0;
      room = free - 2 * HEADER;
    }
    room = room > 0 ? room & ~7 : 0;
    encoder.begin(this.u8, this.dv, pos + HEADER, pos + HEADER + room, context);
    this.active = encoder;
  }

  /** Publishes the message `encoder` wrote; the caller then runs the wake-up check. */
  commit(encoder: Encoder): void {
    this.active = null;
    const size = encoder.size;
    if (size > MAX_PAYLOAD) throw new RangeError('Message is too large to be sent');
    let at: number;
    if (encoder.spilled) {
      at = this.reserve(size);
      this.u8.set(encoder.u8.subarray(encoder.start, encoder.start + size), at);
    } else {
      at = encoder.start;
    }
    this.publish(at, size);
  }

  /**
   * Payload offset for a small message written without an encoder (in
   * this.u8/this.dv), or -1 while an encoder is writing into the ring.
   */
  reserveSmall(size: number): number {
    return this.active === null ? this.reserve(size) : -1;
  }

  get bytes(): Uint8Array {
    return this.u8;
  }

  get data(): DataView {
    return this.dv;
  }

  /** Publishes the `size` payload bytes written at `at`. */
  publish(at: number, size: number): void {
    const record = at - HEADER;
    this.dv.setUint32(record, size, true);
    this.dv.setUint32(record + 4, KIND_MESSAGE, true);
    this.tail = (this.tail + HEADER + align(size)) | 0;
    Atomics.store(this.i32, TAIL, this.tail);
    this.commits++;
  }

  /** Abandons the message `encoder` was writing (serialization failed). */
  abort(): void {
    this.active = null;
  }

  /** Payload offset of a contiguous record of `size` bytes, wrapping or growing as needed. */
  private reserve(size: number): number {
    const need = HEADER + align(size);
    for (;;) {
      const pos = this.tail & this.mask;
      const toEnd = this.capacity - pos;
      const needed = need <= toEnd ? need : toEnd + need;
      if (need + HEADER <= this.capacity && this.free(needed + HEADER) >= needed + HEADER) {
        if (need <= toEnd) return pos + HEADER;
        this.wrap(pos, toEnd);
        return HEADER;
      }
      this.map(this.handle.switchOutgoing(this.view, grownCapacity(this.capacity, need)));
    }
  }

  private wrap(pos: number, toEnd: number): void {
    this.dv.setUint32(pos, 0, true);
    this.dv.setUint32(pos + 4, KIND_WRAP, true);
    this.tail = (this.tail + toEnd) | 0;
    Atomics.store(this.i32, TAIL, this.tail);
  }

  /** Whether the peer has read everything (it may be reading the last record). */
  drained(): boolean {
    return Atomics.load(this.i32, HEAD) === this.tail;
  }

  /** Replaces a large, drained segment with a small one (the consumer frees the old one). */
  shrink(): boolean {
    if (this.capacity <= INITIAL_CAPACITY || this.active !== null || !this.drained()) return false;
    this.map(this.handle.switchOutgoing(this.view, INITIAL_CAPACITY));
    return true;
  }

  release(): void {
    this.handle.release(this.view);
  }
}

/** The reading end of a ring. */
export class Consumer {
  view!: ArrayBuffer;
  i32!: Int32Array;
  u8!: Uint8Array;
  dv!: DataView;
  private capacity = 0;
  private mask = 0;
  head = 0;
  private cachedTail = 0;
  /** Payload offset and size of the record peek() found. */
  pos = 0;
  size = 0;

  constructor(private readonly handle: PortHandle) {
    this.map(handle.incoming());
  }

  private map(view: ArrayBuffer): void {
    this.view = view;
    this.i32 = new Int32Array(view, 0, DATA >> 2);
    this.u8 = new Uint8Array(view, DATA);
    this.dv = new DataView(view, DATA);
    this.capacity = this.u8.length;
    this.mask = this.capacity - 1;
    this.head = Atomics.load(this.i32, HEAD);
    this.cachedTail = this.head;
  }

  get segmentCapacity(): number {
    return this.capacity;
  }

  /** Kind of the next record (0 if none), following wrap and next-segment markers. */
  peek(): number {
    for (;;) {
      if (this.head === this.cachedTail) {
        this.cachedTail = Atomics.load(this.i32, TAIL);
        if (this.head === this.cachedTail) return 0;
      }
      const p = this.head & this.mask;
      const kind = this.dv.getUint32(p + 4, true);
      if (kind === KIND_WRAP) {
        this.head = (this.head + (this.capacity - p)) | 0;
        Atomics.store(this.i32, HEAD, this.head);
        continue;
      }
      if (kind === KIND_NEXT) {
        this.map(this.handle.advanceIncoming(this.view));
        continue;
      }
      const size = this.dv.getUint32(p, true);
      if (size > this.capacity - p - HEADER) throw new Error('ringport: corrupt ring record');
      this.pos = p + HEADER;
      this.size = size;
      return kind;
    }
  }

  /** Consumes the record peek() returned. */
  pop(): void {
    this.head = (this.head + HEADER + align(this.size)) | 0;
    Atomics.store(this.i32, HEAD, this.head);
  }

  /** Published tail of the current segment, read with seq_cst (the sleep protocol, port.h). */
  tailNow(): number {
    return Atomics.load(this.i32, TAIL);
  }

  release(): void {
    this.handle.release(this.view);
  }
}

export { KIND_MESSAGE };
