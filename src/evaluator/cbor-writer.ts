/**
 * The byte-level writers of deterministic CBOR (RFC 8949 §4.2.1, preferred serialization) that
 * `fractional` v3 needs: heads, UTF-8 strings, and numbers normalised as flagd's ADR asks (a whole
 * number in [−2^63, 2^64 − 1] is an integer; any other is the shortest float holding it exactly).
 * See `cbor.ts` for whole values.
 */

const TWO_32 = 4294967296;
const TWO_63 = 9223372036854775808;
const TWO_64 = 18446744073709551616;

const encoder = new TextEncoder();
const scratch = new DataView(new ArrayBuffer(8));

/** A growable byte buffer with CBOR's writers. @internal */
export class Writer {
  bytes: Uint8Array;
  length = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  /** Writes the low `count` bytes of `n` (< 2^32), big-endian. */
  uint(n: number, count: number): void {
    this.reserve(count);
    for (let shift = (count - 1) * 8; shift >= 0; shift -= 8) {
      this.bytes[this.length++] = Math.floor(n / 2 ** shift) & 0xff;
    }
  }

  /** The shortest head of major type `major` with argument `n`, a whole number in [0, 2^64). */
  head(major: number, n: number): void {
    const type = major << 5;
    if (n < 24) return this.byte(type | n);
    const size = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < TWO_32 ? 4 : 8;
    this.byte(type | (24 + Math.log2(size)));
    if (size < 8) return this.uint(n, size);
    const high = Math.floor(n / TWO_32);
    this.uint(high, 4);
    this.uint(n - high * TWO_32, 4);
  }

  string(s: string): void {
    // Optimistically ASCII (the usual key): the header for s.length, then the char codes as bytes.
    const start = this.length;
    this.head(3, s.length);
    this.reserve(s.length);
    const { bytes } = this;
    const at = this.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return this.utf8(s, start);
      bytes[at + i] = c;
    }
    this.length = at + s.length;
  }

  /** `s` with a non-ASCII character, written again from `start`: its UTF-8 length decides the head. */
  private utf8(s: string, start: number): void {
    const n = utf8Length(s);
    this.length = start;
    this.head(3, n);
    this.reserve(n);
    encoder.encodeInto(s, this.bytes.subarray(this.length, this.length + n));
    this.length += n;
  }

  number(x: number): void {
    if (Number.isInteger(x) && x >= -TWO_63 && x < TWO_64) this.integer(x);
    else this.float(x);
  }

  private integer(x: number): void {
    if (x >= 0) this.head(0, x);
    else if (x >= -TWO_32) this.head(1, -1 - x);
    else {
      // −1 − x is not exact in a double here: subtract 1 from the 64-bit magnitude instead
      const m = -x;
      let high = Math.floor(m / TWO_32);
      let low = m - high * TWO_32 - 1;
      if (low < 0) {
        high--;
        low += TWO_32;
      }
      this.byte(0x3b);
      this.uint(high, 4);
      this.uint(low, 4);
    }
  }

  private float(x: number): void {
    if (Number.isNaN(x)) return this.uint(0xf97e00, 3); // the preferred NaN (not in JSON)
    if (Math.fround(x) !== x) {
      scratch.setFloat64(0, x);
      this.byte(0xfb);
      this.uint(scratch.getUint32(0), 4);
      this.uint(scratch.getUint32(4), 4);
      return;
    }
    scratch.setFloat32(0, x);
    const single = scratch.getUint32(0);
    const half = halfOf(single);
    if (half >= 0) {
      this.byte(0xf9);
      this.uint(half, 2);
    } else {
      this.byte(0xfa);
      this.uint(single, 4);
    }
  }
}

/** The UTF-8 length of `s` as `TextEncoder` writes it (a lone surrogate is U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}

/** The binary16 bits of the binary32 `bits` when they hold the same value exactly, else −1. */
function halfOf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return mantissa === 0 ? sign | 0x7c00 : -1; // ±Infinity
  if (exponent === 0) return mantissa === 0 ? sign : -1; // f32 subnormals are below f16's range
  const e = exponent - 127;
  if (e > 15 || e < -24) return -1;
  if (e >= -14) return (mantissa & 0x1fff) === 0 ? sign | ((e + 15) << 10) | (mantissa >>> 13) : -1;
  // an f16 subnormal: m × 2^−24, m < 1024
  const significand = mantissa | 0x800000;
  const shift = -e - 1;
  return significand % 2 ** shift === 0 ? sign | (significand >>> shift) : -1;
}
