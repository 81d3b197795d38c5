/**
 * The protobuf wire format of `flagd.evaluation.v1` and `v2` (flagd-spec §d.2), hand-written like
 * the sync messages in `wire.ts`. v1 and v2 share field numbers; v2 makes `value` and `variant`
 * optional, which on the wire only means they may be absent. Unknown fields are skipped.
 * @internal
 */
import type { JsonObject, JsonValue } from '@openfeature/core';
import { decodeStruct, encodeStruct, Reader, Writer } from './wire.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The type a `Resolve<T>` method returns. */
export type ResolveKind = 'Boolean' | 'String' | 'Int' | 'Float' | 'Object';

/** `Resolve<T>Request`: 1 flag_key, 2 context (Struct). */
export interface ResolveRequest {
  readonly flagKey: string;
  readonly context: JsonObject;
}

/** `Resolve<T>Response`: 1 value (absent in v2 when there is none), 2 reason, 3 variant, 4 metadata. */
export interface ResolveResponse {
  readonly value?: JsonValue;
  readonly reason: string;
  readonly variant?: string;
  readonly metadata: JsonObject;
}

/** `AnyFlag` of `ResolveAllResponse`: the value's JSON type picks the oneof field. */
export interface AnyFlag {
  readonly reason: string;
  readonly variant?: string;
  readonly value?: JsonValue;
  readonly metadata: JsonObject;
}

export interface ResolveAllResponse {
  readonly flags: Readonly<Record<string, AnyFlag>>;
  readonly metadata: JsonObject;
}

/** `EventStreamResponse`: 1 type, 2 data (Struct, optional). */
export interface EventMessage {
  readonly type: string;
  readonly data?: JsonObject;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** A number as int64: truncated like Go's `int64(float64)`, clamped to the int64 range. */
function toInt64(value: number): bigint {
  if (!Number.isFinite(value)) return value > 0 ? INT64_MAX : value < 0 ? INT64_MIN : 0n;
  const n = BigInt(Math.trunc(value));
  return n > INT64_MAX ? INT64_MAX : n < INT64_MIN ? INT64_MIN : n;
}

function writeValue(w: Writer, field: number, kind: ResolveKind, value: JsonValue): void {
  switch (kind) {
    case 'Boolean':
      w.tag(field, 0).varint(value === true ? 1 : 0);
      break;
    case 'String':
      w.string(field, String(value));
      break;
    case 'Float':
      w.double(field, Number(value));
      break;
    case 'Int':
      w.tag(field, 0).varint64(toInt64(Number(value)));
      break;
    case 'Object':
      w.bytesField(field, encodeStruct(value as JsonObject));
      break;
  }
}

function readValue(r: Reader, kind: ResolveKind, wire: number): JsonValue | undefined {
  if (kind === 'Boolean' && wire === 0) return r.varint() !== 0;
  if (kind === 'String' && wire === 2) return decoder.decode(r.bytes());
  if (kind === 'Float' && wire === 1) return r.double();
  if (kind === 'Int' && wire === 0) return Number(r.varint64());
  if (kind === 'Object' && wire === 2) return decodeStruct(r.bytes());
  r.skip(wire);
  return undefined;
}

export function encodeResolveRequest(request: ResolveRequest): Uint8Array {
  const w = new Writer();
  if (request.flagKey !== '') w.string(1, request.flagKey);
  return w.bytesField(2, encodeStruct(request.context)).finish();
}

/** Throws a RangeError for bytes that are not a request (or a context nested too deep). */
export function decodeResolveRequest(bytes: Uint8Array): ResolveRequest {
  const r = new Reader(bytes);
  let flagKey = '';
  let context: JsonObject = {};
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) flagKey = decoder.decode(r.bytes());
    else if (field === 2 && wire === 2) context = decodeStruct(r.bytes());
    else r.skip(wire);
  }
  return { flagKey, context };
}

/** `ResolveAllRequest`: 1 context. */
export function encodeResolveAllRequest(context: JsonObject): Uint8Array {
  return new Writer().bytesField(1, encodeStruct(context)).finish();
}

export function decodeResolveAllRequest(bytes: Uint8Array): JsonObject {
  const r = new Reader(bytes);
  let context: JsonObject = {};
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) context = decodeStruct(r.bytes());
    else r.skip(wire);
  }
  return context;
}

export function encodeResolveResponse(kind: ResolveKind, response: ResolveResponse): Uint8Array {
  const w = new Writer();
  if (response.value !== undefined) writeValue(w, 1, kind, response.value);
  w.string(2, response.reason);
  if (response.variant !== undefined) w.string(3, response.variant);
  return w.bytesField(4, encodeStruct(response.metadata)).finish();
}

export function decodeResolveResponse(kind: ResolveKind, bytes: Uint8Array): ResolveResponse {
  const r = new Reader(bytes);
  let value: JsonValue | undefined;
  let reason = '';
  let variant: string | undefined;
  let metadata: JsonObject = {};
  for (const [field, wire] of r.fields()) {
    if (field === 1) value = readValue(r, kind, wire);
    else if (field === 2 && wire === 2) reason = decoder.decode(r.bytes());
    else if (field === 3 && wire === 2) variant = decoder.decode(r.bytes());
    else if (field === 4 && wire === 2) metadata = decodeStruct(r.bytes());
    else r.skip(wire);
  }
  return {
    ...(value === undefined ? {} : { value }),
    reason,
    ...(variant === undefined ? {} : { variant }),
    metadata,
  };
}

function encodeAnyFlag(flag: AnyFlag): Uint8Array {
  const w = new Writer().string(1, flag.reason);
  if (flag.variant !== undefined) w.string(2, flag.variant);
  const value = flag.value;
  if (typeof value === 'boolean') w.tag(3, 0).varint(value ? 1 : 0);
  else if (typeof value === 'string') w.string(4, value);
  else if (typeof value === 'number') w.double(5, value);
  else if (value !== undefined && value !== null && !Array.isArray(value))
    w.bytesField(6, encodeStruct(value));
  return w.bytesField(7, encodeStruct(flag.metadata)).finish();
}

function decodeAnyFlag(bytes: Uint8Array): AnyFlag {
  const r = new Reader(bytes);
  let reason = '';
  let variant: string | undefined;
  let value: JsonValue | undefined;
  let metadata: JsonObject = {};
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) reason = decoder.decode(r.bytes());
    else if (field === 2 && wire === 2) variant = decoder.decode(r.bytes());
    else if (field === 3 && wire === 0) value = r.varint() !== 0;
    else if (field === 4 && wire === 2) value = decoder.decode(r.bytes());
    else if (field === 5 && wire === 1) value = r.double();
    else if (field === 6 && wire === 2) value = decodeStruct(r.bytes());
    else if (field === 7 && wire === 2) metadata = decodeStruct(r.bytes());
    else r.skip(wire);
  }
  return {
    reason,
    ...(variant === undefined ? {} : { variant }),
    ...(value === undefined ? {} : { value }),
    metadata,
  };
}

/** `ResolveAllResponse`: 1 flags (map<string, AnyFlag>), 2 metadata. */
export function encodeResolveAllResponse(response: ResolveAllResponse): Uint8Array {
  const w = new Writer();
  for (const [key, flag] of Object.entries(response.flags)) {
    w.bytesField(1, new Writer().string(1, key).bytesField(2, encodeAnyFlag(flag)).finish());
  }
  return w.bytesField(2, encodeStruct(response.metadata)).finish();
}

export function decodeResolveAllResponse(bytes: Uint8Array): ResolveAllResponse {
  const r = new Reader(bytes);
  const flags: [string, AnyFlag][] = [];
  let metadata: JsonObject = {};
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) {
      const entry = new Reader(r.bytes());
      let key = '';
      let flag: AnyFlag = { reason: '', metadata: {} };
      for (const [f, w] of entry.fields()) {
        if (f === 1 && w === 2) key = decoder.decode(entry.bytes());
        else if (f === 2 && w === 2) flag = decodeAnyFlag(entry.bytes());
        else entry.skip(w);
      }
      flags.push([key, flag]);
    } else if (field === 2 && wire === 2) metadata = decodeStruct(r.bytes());
    else r.skip(wire);
  }
  return { flags: Object.fromEntries(flags), metadata };
}

export function encodeEventMessage(message: EventMessage): Uint8Array {
  const w = new Writer().string(1, message.type);
  if (message.data !== undefined) w.bytesField(2, encodeStruct(message.data));
  return w.finish();
}

export function decodeEventMessage(bytes: Uint8Array): EventMessage {
  const r = new Reader(bytes);
  let type = '';
  let data: JsonObject | undefined;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) type = decoder.decode(r.bytes());
    else if (field === 2 && wire === 2) data = decodeStruct(r.bytes());
    else r.skip(wire);
  }
  return { type, ...(data === undefined ? {} : { data }) };
}
