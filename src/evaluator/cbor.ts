/**
 * Deterministic CBOR (RFC 8949 §4.2.1, preferred serialization) of JSON values, as `fractional` v3
 * hashes them (flagd ADR "Harden Hashing Consistency And Add Support For Non-string Attributes";
 * flagd-spec §b.6.4):
 * - a whole number in [−2^63, 2^64 − 1] is an integer (major type 0 or 1), so `1.0` ≡ `1` and
 *   `-0.0` ≡ `0`; any other number is the shortest float that holds it exactly (f16, f32 or f64);
 * - a string is its UTF-8 bytes after a length header (lone surrogates become U+FFFD);
 * - a map's keys are sorted by their encoded bytes: shorter first, then bytewise;
 * - `true`, `false` and `null` are simple values; arrays are major type 4.
 *
 * Only what a bucketing value can hold is written: JSON values, plus a `Date` as its ISO text (its
 * JSON form, which is what flagd sees of it over RPC). An `undefined` property is left out and an
 * `undefined` element is `null`, as in JSON; functions, symbols and bigints cannot be encoded.
 *
 * Hand-written for the hot path: a string or number is written into one reused buffer, an ASCII
 * string straight from its char codes, and hashed there with no allocation.
 */
import type { Env } from './rule.js';

/** What encoding needs of an evaluation: its work budget. */
type Budget = Pick<Env, 'spend'>;
import { Writer } from './cbor-writer.js';
import { murmur3Bytes } from './murmur3.js';
import { textCost } from './operators/coerce.js';

/** Containers nested deeper than this are not encoded (a cyclic context object stops here too). */
const MAX_DEPTH = 128;
/** A shared buffer grown past this is dropped after use, so one huge key does not stay resident. */
const KEEP_BYTES = 64 * 1024;

/** Compares encoded map keys: shorter first, then bytewise (RFC 8949 §4.2.1). */
function byEncoding(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** Writes `value`; `false` when it cannot be encoded, is nested too deep or is over the budget. */
function write(w: Writer, value: unknown, depth: number, env: Budget): boolean {
  switch (typeof value) {
    case 'string':
      if (!env.spend(textCost(value))) return false;
      w.string(value);
      return true;
    case 'number':
      w.number(value);
      return true;
    case 'boolean':
      w.byte(value ? 0xf5 : 0xf4);
      return true;
    case 'object':
      if (value === null) {
        w.byte(0xf6);
        return true;
      }
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(value)) return writeArray(w, value, depth, env);
      if (value instanceof Date) {
        const time = value.getTime();
        return Number.isFinite(time) && write(w, value.toISOString(), depth, env);
      }
      return writeMap(w, value as Record<string, unknown>, depth, env);
    default:
      return false;
  }
}

function writeArray(w: Writer, items: readonly unknown[], depth: number, env: Budget): boolean {
  if (!env.spend(items.length)) return false;
  w.head(4, items.length);
  for (const item of items) if (!write(w, item ?? null, depth + 1, env)) return false;
  return true;
}

function writeMap(w: Writer, map: Record<string, unknown>, depth: number, env: Budget): boolean {
  const keys = Object.keys(map);
  if (!env.spend(keys.length)) return false;
  const entries: { key: Uint8Array; value: unknown }[] = [];
  for (const name of keys) {
    const value = map[name];
    if (value === undefined) continue;
    const key = new Writer(name.length + 3);
    key.string(name);
    entries.push({ key: key.bytes.subarray(0, key.length), value });
  }
  entries.sort((a, b) => byEncoding(a.key, b.key));
  w.head(5, entries.length);
  for (const { key, value } of entries) {
    w.reserve(key.length);
    w.bytes.set(key, w.length);
    w.length += key.length;
    if (!write(w, value, depth + 1, env)) return false;
  }
  return true;
}

/** The buffer strings, numbers and the implicit pair are encoded in: no user code runs meanwhile. */
let shared = new Writer(256);

function hashShared(): number {
  const hash = murmur3Bytes(shared.bytes, shared.length);
  if (shared.bytes.length > KEEP_BYTES) shared = new Writer(256);
  return hash;
}

/**
 * MurmurHash3 (x86 32-bit, seed 0) of the deterministic CBOR of `value`: `fractional` v3's hash of
 * a bucketing value. −1 when there is none: `null` or `undefined` (flagd's ADR rejects a null
 * bucketing value), a value CBOR cannot hold here, nesting deeper than 128, or a value too big for
 * the evaluation's work budget. Never throws, even for a context object whose getters do.
 * @internal
 */
export function cborHash(value: unknown, env: Budget): number {
  if (value === null || value === undefined) return -1;
  if (typeof value !== 'object') {
    shared.length = 0;
    return write(shared, value, 0, env) ? hashShared() : -1;
  }
  const bytes = encodeCbor(value, env);
  return bytes === undefined ? -1 : murmur3Bytes(bytes, bytes.length);
}

/** The buffer of {@link cborPairHash}: `[first, ` stays written while `first` (a flag key) repeats. */
let pair = new Writer(256);
let pairFirst: string | undefined;
let pairPrefix = 0;

/** The hash of the CBOR array `[first, second]`: v3's implicit key `[flagKey, targetingKey]`. @internal */
export function cborPairHash(first: string, second: string): number {
  if (first !== pairFirst) {
    pair.length = 0;
    pair.byte(0x82);
    pair.string(first);
    pairFirst = first;
    pairPrefix = pair.length;
  }
  pair.length = pairPrefix;
  pair.string(second);
  const hash = murmur3Bytes(pair.bytes, pair.length);
  if (pair.bytes.length > KEEP_BYTES) {
    pair = new Writer(256);
    pairFirst = undefined;
  }
  return hash;
}

/**
 * The deterministic CBOR bytes of `value` in a buffer of their own (objects are encoded there: a
 * getter or proxy in a context object may run an evaluation of its own meanwhile); `undefined`
 * when it cannot be encoded (see {@link cborHash}, except that `null` is encoded as `f6`).
 * @internal
 */
export function encodeCbor(value: unknown, env: Budget): Uint8Array | undefined {
  const w = new Writer(64);
  try {
    return write(w, value, 0, env) ? w.bytes.subarray(0, w.length) : undefined;
  } catch {
    return undefined; // a throwing getter or proxy trap in a context object
  }
}
