/**
 * The protobuf wire format for the few messages of `flagd.sync.v1`, hand-written: protobufjs
 * generates its codecs with `Function` at run time, which this project does not allow. Unknown
 * fields are skipped, as protobuf requires.
 * @internal
 */
import type { JsonObject, JsonValue } from '@openfeature/core';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Appends protobuf fields to a growing byte list. @internal */
export class Writer {
  readonly bytes: number[] = [];

  varint(value: number): this {
    let v = value >>> 0;
    while (v > 0x7f) {
      this.bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.bytes.push(v);
    return this;
  }

  /** A 64-bit varint: an int64 in two's complement (negative values take ten bytes). */
  varint64(value: bigint): this {
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  /** A length-delimited field (wire type 2). */
  bytesField(field: number, payload: Uint8Array | readonly number[]): this {
    this.tag(field, 2).varint(payload.length);
    for (const b of payload) this.bytes.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, encoder.encode(value));
  }

  double(field: number, value: number): this {
    const buffer = new DataView(new ArrayBuffer(8));
    buffer.setFloat64(0, value, true);
    this.tag(field, 1);
    for (let i = 0; i < 8; i++) this.bytes.push(buffer.getUint8(i));
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Reads protobuf fields from bytes. @internal */
export class Reader {
  offset = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.offset >= this.buf.length) throw new RangeError('truncated varint');
      const byte = this.buf[this.offset++] as number;
      if (shift < 32) result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new RangeError('varint too long');
    }
  }

  /** A 64-bit varint as a signed int64. */
  varint64(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.offset >= this.buf.length) throw new RangeError('truncated varint');
      const byte = this.buf[this.offset++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asIntN(64, result);
    }
    throw new RangeError('varint too long');
  }

  bytes(): Uint8Array {
    const length = this.varint();
    const end = this.offset + length;
    if (end > this.buf.length) throw new RangeError('truncated field');
    const out = this.buf.subarray(this.offset, end);
    this.offset = end;
    return out;
  }

  double(): number {
    if (this.offset + 8 > this.buf.length) throw new RangeError('truncated double');
    const value = new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, 8).getFloat64(
      0,
      true,
    );
    this.offset += 8;
    return value;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.offset += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.offset += 4;
    else throw new RangeError(`unsupported wire type ${wireType}`);
  }

  /** Each field as [number, wireType]; the caller reads or skips its value. */
  *fields(): Generator<[number, number]> {
    while (!this.done) {
      const tag = this.varint();
      yield [Math.floor(tag / 8), tag & 7];
    }
  }
}

/** `google.protobuf.Value` from a JSON value. */
function encodeValue(value: JsonValue): Uint8Array {
  const w = new Writer();
  if (value === null) w.tag(1, 0).varint(0);
  else if (typeof value === 'number') w.double(2, value);
  else if (typeof value === 'string') w.string(3, value);
  else if (typeof value === 'boolean') w.tag(4, 0).varint(value ? 1 : 0);
  else if (Array.isArray(value)) {
    const list = new Writer();
    for (const item of value) list.bytesField(1, encodeValue(item));
    w.bytesField(6, list.finish());
  } else w.bytesField(5, encodeStruct(value));
  return w.finish();
}

/** `google.protobuf.Struct` from a JSON object. */
export function encodeStruct(object: JsonObject): Uint8Array {
  const w = new Writer();
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined) continue;
    const entry = new Writer().string(1, key).bytesField(2, encodeValue(value)).finish();
    w.bytesField(1, entry);
  }
  return w.finish();
}

/**
 * How deep a decoded `Struct` may nest (structs and lists), as the evaluator bounds JSON: a hostile
 * sync context nested deeper is refused with a `RangeError` before the recursion can overflow.
 */
export const MAX_STRUCT_DEPTH = 128;

function nested(depth: number): number {
  if (depth >= MAX_STRUCT_DEPTH)
    throw new RangeError(`Struct nested deeper than ${MAX_STRUCT_DEPTH} levels`);
  return depth + 1;
}

function decodeValue(bytes: Uint8Array, depth: number): JsonValue {
  const r = new Reader(bytes);
  let value: JsonValue = null;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 0) {
      r.varint();
      value = null;
    } else if (field === 2 && wire === 1) value = r.double();
    else if (field === 3 && wire === 2) value = decoder.decode(r.bytes());
    else if (field === 4 && wire === 0) value = r.varint() !== 0;
    else if (field === 5 && wire === 2) value = decodeStruct(r.bytes(), depth);
    else if (field === 6 && wire === 2) {
      const list = new Reader(r.bytes());
      const items: JsonValue[] = [];
      const inner = nested(depth);
      for (const [f, w] of list.fields()) {
        if (f === 1 && w === 2) items.push(decodeValue(list.bytes(), inner));
        else list.skip(w);
      }
      value = items;
    } else r.skip(wire);
  }
  return value;
}

/**
 * A JSON object from `google.protobuf.Struct`; keys stay own data properties. Throws a `RangeError`
 * for bytes that are not a Struct or nest deeper than {@link MAX_STRUCT_DEPTH}.
 */
export function decodeStruct(bytes: Uint8Array, depth = 0): JsonObject {
  const inner = nested(depth);
  const entries: [string, JsonValue][] = [];
  const r = new Reader(bytes);
  for (const [field, wire] of r.fields()) {
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const entry = new Reader(r.bytes());
    let key = '';
    let value: JsonValue = null;
    for (const [f, w] of entry.fields()) {
      if (f === 1 && w === 2) key = decoder.decode(entry.bytes());
      else if (f === 2 && w === 2) value = decodeValue(entry.bytes(), inner);
      else entry.skip(w);
    }
    entries.push([key, value]);
  }
  return Object.fromEntries(entries);
}

/** `SyncFlagsRequest` / `FetchAllFlagsRequest`: 1 provider_id, 2 selector (deprecated). */
export interface SyncRequest {
  readonly providerId?: string;
  readonly selector?: string;
}

export function encodeSyncRequest(request: SyncRequest): Uint8Array {
  const w = new Writer();
  if (request.providerId) w.string(1, request.providerId);
  if (request.selector) w.string(2, request.selector);
  return w.finish();
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  const r = new Reader(bytes);
  let providerId: string | undefined;
  let selector: string | undefined;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) providerId = decoder.decode(r.bytes());
    else if (field === 2 && wire === 2) selector = decoder.decode(r.bytes());
    else r.skip(wire);
  }
  return {
    ...(providerId === undefined ? {} : { providerId }),
    ...(selector === undefined ? {} : { selector }),
  };
}

/** `SyncFlagsResponse`: 1 flag_configuration (JSON text), 2 sync_context (Struct, optional). */
export interface SyncResponse {
  readonly flagConfiguration: string;
  readonly syncContext?: JsonObject;
}

export function encodeSyncResponse(response: SyncResponse): Uint8Array {
  const w = new Writer().string(1, response.flagConfiguration);
  if (response.syncContext !== undefined) w.bytesField(2, encodeStruct(response.syncContext));
  return w.finish();
}

export function decodeSyncResponse(bytes: Uint8Array): SyncResponse {
  const r = new Reader(bytes);
  let flagConfiguration = '';
  let syncContext: JsonObject | undefined;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) flagConfiguration = decoder.decode(r.bytes());
    else if (field === 2 && wire === 2) syncContext = decodeStruct(r.bytes());
    else r.skip(wire);
  }
  return { flagConfiguration, ...(syncContext === undefined ? {} : { syncContext }) };
}

/** `GetMetadataResponse` (deprecated RPC): field 2, the same Struct as `sync_context`. */
export function encodeMetadataResponse(metadata: JsonObject): Uint8Array {
  return new Writer().bytesField(2, encodeStruct(metadata)).finish();
}
