/**
 * MurmurHash3 x86 32-bit over the UTF-8 bytes of a string, as flagd (Go `twmb/murmur3`), and the
 * Java, Python and .NET providers compute it for `fractional` bucketing.
 *
 * The string is encoded to UTF-8 on the fly (no `TextEncoder`, no allocation): each UTF-16 code unit
 * or surrogate pair becomes 1–4 bytes, fed into the 4-byte block mixer. A lone surrogate is encoded
 * as U+FFFD, exactly as `TextEncoder` and Go's `[]byte(string)` conversion of invalid UTF-16 do.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** @internal */
export function murmur3(key: string, seed = 0): number {
  let h = seed >>> 0;
  let block = 0; // bytes of the current block, little-endian
  let filled = 0; // how many bytes the block holds
  let length = 0; // total bytes

  const push = (byte: number): void => {
    block |= byte << (filled << 3);
    filled++;
    length++;
    if (filled === 4) {
      let k = Math.imul(block, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      block = 0;
      filled = 0;
    }
  };

  for (let i = 0; i < key.length; i++) {
    let code = key.charCodeAt(i);
    if (code < 0x80) {
      push(code);
      continue;
    }
    if (code < 0x800) {
      push(0xc0 | (code >> 6));
      push(0x80 | (code & 0x3f));
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
        push(0xf0 | (code >> 18));
        push(0x80 | ((code >> 12) & 0x3f));
        push(0x80 | ((code >> 6) & 0x3f));
        push(0x80 | (code & 0x3f));
        continue;
      }
      code = 0xfffd; // lone surrogate
    }
    push(0xe0 | (code >> 12));
    push(0x80 | ((code >> 6) & 0x3f));
    push(0x80 | (code & 0x3f));
  }

  if (filled > 0) {
    let k = Math.imul(block, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }

  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * `floor(hash * totalWeight / 2^32)` in exact integer arithmetic without BigInt: flagd's v2 bucket.
 * `hash` < 2^32 and `totalWeight` ≤ 2^31−1, so the product needs 63 bits; it is split into 16-bit
 * halves whose partial products (< 2^47) are exact in a double.
 * @internal
 */
export function bucketOf(hash: number, totalWeight: number): number {
  const hi = hash >>> 16;
  const lo = hash & 0xffff;
  const a = hi * totalWeight; // < 2^47
  const b = lo * totalWeight; // < 2^47
  const aq = Math.floor(a / 65536);
  const ar = a - aq * 65536;
  return aq + Math.floor((ar * 65536 + b) / 4294967296);
}
