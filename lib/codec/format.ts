// Wire format of a message payload (the body of a kMessage ring record).
//
//   u8 flags
//   varint portCount, then portCount f64 tokens (TransferRegistry, native)
//   value
//   if flags & HasForeign, a trailer (FOREIGN_TRAILER bytes): f64 origin,
//   f64 seq, f64 destination (where the values Node's serializer carries
//   are: foreign.ts), u32 value count, u32 Node-port count, u32 bundle count
//
// A value is a tag byte and its body; numbers are little-endian; varints are
// unsigned LEB128. Every object gets the next id in the order it is first
// met, so a second meeting writes Ref(id): shared and circular references
// survive as in V8's serializer.
export const enum Tag {
  Undefined = 0,
  Null = 1,
  True = 2,
  False = 3,
  Int32 = 4, // i32
  Double = 5, // f64
  Latin1 = 6, // varint n, n bytes (code units 0-255)
  Utf16 = 7, // varint n, 2n bytes (code units, lone surrogates kept)
  Utf8 = 8, // u32 byte length, bytes (well-formed strings only)
  BigInt = 9, // u8 sign, string of hex digits (Latin1 body)
  Object = 10, // (key value)* End; keys are strings
  Array = 11, // varint length, elements (Hole, SkipTo allowed), (key value)* End
  Hole = 12, // an absent array element
  SkipTo = 13, // varint index: the elements before it are absent
  Date = 14, // f64
  RegExp = 15, // string source, string flags
  Map = 16, // (key value)* End
  Set = 17, // value* End
  ArrayBuffer = 18, // varint byteLength, bytes
  ResizableArrayBuffer = 19, // varint byteLength, varint maxByteLength, bytes
  View = 20, // u8 ViewKind, u8 flags, varint byteOffset, varint length, buffer value
  NumberObject = 21, // f64
  StringObject = 22, // string
  BooleanObject = 23, // u8
  BigIntObject = 24, // bigint body
  Error = 25, // u8 ErrorKind, (u8 ErrorField, body)* ErrorField.End
  Ref = 26, // varint id
  Port = 27, // varint index in the message's port table
  End = 28,
  Foreign = 29, // varint index in the message's foreign values (foreign.ts)
}

export const enum ViewKind {
  Int8 = 0,
  Uint8 = 1,
  Uint8Clamped = 2,
  Int16 = 3,
  Uint16 = 4,
  Int32 = 5,
  Uint32 = 6,
  Float32 = 7,
  Float64 = 8,
  BigInt64 = 9,
  BigUint64 = 10,
  DataView = 11,
}

export const enum ViewFlags {
  LengthTracking = 1, // a view over a resizable buffer that follows its length
}

export const enum ErrorKind {
  Error = 0,
  EvalError = 1,
  RangeError = 2,
  ReferenceError = 3,
  SyntaxError = 4,
  TypeError = 5,
  URIError = 6,
}

export const enum ErrorField {
  End = 0,
  Message = 1, // string
  Stack = 2, // string
  Cause = 3, // value
}

export const enum PayloadFlags {
  None = 0,
  HasForeign = 1,
}

export const FOREIGN_TRAILER = 36;
