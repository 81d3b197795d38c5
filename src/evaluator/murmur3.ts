/**
 * MurmurHash3 x86 32-bit over the UTF-8 bytes of a string, as flagd (Go `twmb/murmur3`), and the
 * Java, Python and .NET providers compute it for `fractional` bucketing.
 *
 * Hand-written because it is the hot path of every percentage rollout: an ASCII key (the usual
 * case) is hashed straight from its char codes, four at a time; any other key is UTF-8 encoded
 * into a reused buffer with `TextEncoder.encodeInto` (lone surrogates become U+FFFD, as Go's
 * `[]byte(string)` of invalid UTF-16 does). Neither path allocates.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();
let buffer = new Uint8Array(256);

const mixK = (k: number): number => Math.imul(rotl(Math.imul(k, C1), 15), C2);
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
const mixH = (h: number, k: number): number =>
  (Math.imul(rotl(h ^ mixK(k), 13), 5) + 0xe6546b64) | 0;

function finish(h: number, k: number, tail: number, length: number): number {
  if (tail > 0) h ^= mixK(k);
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3 of `prefix + suffix` without building the concatenation (the implicit bucketing key
 * `flagKey + targetingKey` would otherwise be a fresh string to flatten on every evaluation).
 * @internal
 */
export function murmur3(prefix: string, suffix = '', seed = 0): number {
  return murmur3From(prefix, suffix, seed, seed | 0, 0);
}

/**
 * MurmurHash3 of `prefix + suffix` that mixes the whole blocks of a prefix once and reuses them
 * while the prefix stays the same (the implicit key's prefix is the flag key, the same in every
 * evaluation of a flag). One per rule: it remembers the last prefix. @internal
 */
export class PrefixMurmur3 {
  #prefix: string | undefined;
  /** The state after the prefix's whole blocks, and where they end; `-1` when not ASCII. */
  #h = 0;
  #at = -1;

  hash(prefix: string, suffix: string): number {
    if (prefix !== this.#prefix) {
      this.#at = asciiBlocks(prefix);
      this.#h = this.#at < 0 ? 0 : mixBlocks(prefix, this.#at);
      this.#prefix = prefix;
    }
    return this.#at < 0
      ? murmur3(prefix, suffix)
      : murmur3From(prefix, suffix, 0, this.#h, this.#at);
  }
}

/** Where the whole four-character blocks of an ASCII `text` end, or `-1` when it is not ASCII. */
function asciiBlocks(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return -1;
  return text.length & ~3;
}

/** The hash state (seed 0) after the ASCII blocks of `text` before `end`. */
function mixBlocks(text: string, end: number): number {
  let h = 0;
  for (let i = 0; i < end; i += 4) {
    const k =
      text.charCodeAt(i) |
      (text.charCodeAt(i + 1) << 8) |
      (text.charCodeAt(i + 2) << 16) |
      (text.charCodeAt(i + 3) << 24);
    h = mixH(h, k);
  }
  return h;
}

/** {@link murmur3} from character `start` with state `h` (the blocks before it mixed, seed `seed`). */
function murmur3From(
  prefix: string,
  suffix: string,
  seed: number,
  h: number,
  start: number,
): number {
  const split = prefix.length;
  const n = split + suffix.length;
  let i = start;
  for (; i + 4 <= n; i += 4) {
    let a: number, b: number, c: number, d: number;
    if (i + 4 <= split) {
      a = prefix.charCodeAt(i);
      b = prefix.charCodeAt(i + 1);
      c = prefix.charCodeAt(i + 2);
      d = prefix.charCodeAt(i + 3);
    } else if (i >= split) {
      const j = i - split;
      a = suffix.charCodeAt(j);
      b = suffix.charCodeAt(j + 1);
      c = suffix.charCodeAt(j + 2);
      d = suffix.charCodeAt(j + 3);
    } else {
      // the one block that straddles the join
      a = charAt(prefix, suffix, split, i);
      b = charAt(prefix, suffix, split, i + 1);
      c = charAt(prefix, suffix, split, i + 2);
      d = charAt(prefix, suffix, split, i + 3);
    }
    if ((a | b | c | d) > 0x7f) return murmur3Utf8(prefix, suffix, seed);
    h = mixH(h, a | (b << 8) | (c << 16) | (d << 24));
  }
  let k = 0;
  for (let shift = 0; i < n; i++, shift += 8) {
    const code = charAt(prefix, suffix, split, i);
    if (code > 0x7f) return murmur3Utf8(prefix, suffix, seed);
    k |= code << shift;
  }
  return finish(h, k, n & 3, n);
}

const charAt = (prefix: string, suffix: string, split: number, i: number): number =>
  i < split ? prefix.charCodeAt(i) : suffix.charCodeAt(i - split);

function murmur3Utf8(prefix: string, suffix: string, seed: number): number {
  const most = (prefix.length + suffix.length) * 3;
  if (buffer.length < most) buffer = new Uint8Array(most);
  const head = encoder.encodeInto(prefix, buffer).written;
  const tail = encoder.encodeInto(suffix, buffer.subarray(head)).written;
  return murmur3Bytes(buffer, head + tail, seed);
}

/** MurmurHash3 x86 32-bit over the first `length` bytes of `bytes`. @internal */
export function murmur3Bytes(bytes: Uint8Array, length: number, seed = 0): number {
  let h = seed | 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    h = mixH(
      h,
      (bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24),
    );
  }
  let k = 0;
  for (let shift = 0; i < length; i++, shift += 8) k |= (bytes[i] as number) << shift;
  return finish(h, k, length & 3, length);
}

/**
 * `floor(hash * totalWeight / 2^32)` in exact integer arithmetic without BigInt: flagd's v2 bucket.
 * `hash` < 2^32 and `totalWeight` ≤ 2^31−1, so the product needs 63 bits; it is split into 16-bit
 * halves whose partial products (< 2^47) are exact in a double.
 * @internal
 */
export function bucketOf(hash: number, totalWeight: number): number {
  // hash < 2^32 and totalWeight ≤ 2^21 keep the product under 2^53, so it is exact, and dividing
  // by a power of two is exact: the usual weight tables (100, 10000) take this path.
  if (totalWeight <= 0x200000) return Math.floor((hash * totalWeight) / 4294967296);
  const hi = hash >>> 16;
  const lo = hash & 0xffff;
  const a = hi * totalWeight; // < 2^47
  const b = lo * totalWeight; // < 2^47
  const aq = Math.floor(a / 65536);
  const ar = a - aq * 65536;
  return aq + Math.floor((ar * 65536 + b) / 4294967296);
}
