import fc from 'fast-check';
// An independent, byte-oriented MurmurHash3 port checked against the C++ reference.
import murmurReference from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { cborHash, cborPairHash, encodeCbor } from '../../src/evaluator/cbor.js';
import type { Env } from '../../src/evaluator/rule.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const env = (budget = Infinity): Env => {
  let left = budget;
  return {
    flagKey: 'f',
    root: undefined,
    timestamp: () => 0,
    logger: silent,
    spend: (units) => (left -= units) >= 0,
  };
};
const hex = (value: unknown): string | undefined => {
  const bytes = encodeCbor(value, env());
  return bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');
};
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

describe('deterministic CBOR', () => {
  // RFC 8949 Appendix A, the examples a JSON value can give (whole-number floats are left out:
  // flagd's ADR encodes them as integers, below).
  it.each([
    [0, '00'],
    [1, '01'],
    [10, '0a'],
    [23, '17'],
    [24, '1818'],
    [25, '1819'],
    [100, '1864'],
    [1000, '1903e8'],
    [1000000, '1a000f4240'],
    [1000000000000, '1b000000e8d4a51000'],
    [-1, '20'],
    [-10, '29'],
    [-100, '3863'],
    [-1000, '3903e7'],
    [1.1, 'fb3ff199999999999a'],
    [1.5, 'f93e00'],
    [3.4028234663852886e38, 'fa7f7fffff'],
    [1.0e300, 'fb7e37e43c8800759c'],
    [5.960464477539063e-8, 'f90001'],
    [0.00006103515625, 'f90400'],
    [-4.1, 'fbc010666666666666'],
    [Infinity, 'f97c00'],
    [NaN, 'f97e00'],
    [-Infinity, 'f9fc00'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
    ['', '60'],
    ['a', '6161'],
    ['IETF', '6449455446'],
    ['"\\', '62225c'],
    ['\u00fc', '62c3bc'],
    ['\u6c34', '63e6b0b4'],
    ['\ud800\udd51', '64f0908591'],
    [[], '80'],
    [[1, 2, 3], '83010203'],
    [[1, [2, 3], [4, 5]], '8301820203820405'],
    [
      Array.from({ length: 25 }, (_, i) => i + 1),
      '98190102030405060708090a0b0c0d0e0f101112131415161718181819',
    ],
    [{}, 'a0'],
    [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
    [['a', { b: 'c' }], '826161a161626163'],
    [{ a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }, 'a56161614161626142616361436164614461656145'],
  ])('encodes %j as RFC 8949 Appendix A does: %s', (value, expected) => {
    expect(hex(value)).toBe(expected);
  });

  it.each([
    // flagd's ADR: a whole number in [−2^63, 2^64 − 1] is an integer, -0.0 is 0
    [-0, '00'],
    [65504.0, '19ffe0'],
    [-4.0, '23'],
    [2 ** 32, '1b0000000100000000'],
    [-(2 ** 32), '3a ffffffff'],
    [-(2 ** 32) - 1, '3b0000000100000000'],
    [-(2 ** 53) - 2, '3b0020000000000001'],
    [-(2 ** 63), '3b7fffffffffffffff'],
    [2 ** 64 - 2048, '1bfffffffffffff800'],
    // outside the integer range: the shortest exact float
    [2 ** 64, 'fa5f800000'],
    [-(2 ** 63) - 2048, 'fbc3e0000000000001'],
    [1e20, 'fb4415af1d78b58c40'],
    // the float sizes' edges
    [65505.5, 'fa477fe180'],
    [1.1754943508222875e-38, 'fa00800000'],
    [4.9406564584124654e-324, 'fb0000000000000001'],
    [0.1, 'fb3fb999999999999a'],
  ])('normalises the number %d as the ADR asks: %s', (value, expected) => {
    expect(hex(value)).toBe(expected.replace(' ', ''));
  });

  it('sorts map keys by their encoding: shorter first, then bytewise (not by UTF-16 units)', () => {
    expect(hex({ aa: 1, z: 2 })).toBe(hex({ z: 2, aa: 1 }));
    expect(hex({ aa: 1, z: 2 })).toBe('a2617a0262616101');
    // two 4-byte keys: "\uff61a" sorts after U+1F600 in UTF-16 units (0xFF61 > 0xD83D), before it
    // in UTF-8 bytes (0xEF < 0xF0)
    expect(hex({ '\u{1F600}': 1, '\uff61a': 2 })).toBe('a264efbda1610264f09f988001');
  });

  it('leaves out undefined properties and turns undefined elements into null, as JSON does', () => {
    expect(hex({ a: 1, b: undefined })).toBe(hex({ a: 1 }));
    expect(hex([1, undefined])).toBe(hex([1, null]));
  });

  it('encodes a Date as its ISO text (its JSON form)', () => {
    expect(hex(new Date(0))).toBe(hex('1970-01-01T00:00:00.000Z'));
    expect(hex(new Date(Number.NaN))).toBeUndefined();
  });

  it.each([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 1n],
    ['a function in an object', { f: () => 1 }],
  ])('cannot encode %s', (_name, value) => {
    expect(encodeCbor(value, env())).toBeUndefined();
    expect(cborHash(value, env())).toBe(-1);
  });

  it('has no hash for null or undefined (the ADR rejects a null bucketing value)', () => {
    expect(cborHash(null, env())).toBe(-1);
    expect(cborHash(undefined, env())).toBe(-1);
  });

  it('gives up on cycles, nesting deeper than 128 and values over the work budget, never throwing', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(cborHash(cyclic, env())).toBe(-1);
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    expect(cborHash(deep, env())).toBe(-1);
    expect(
      cborHash(
        Array.from({ length: 1000 }, () => 1),
        env(999),
      ),
    ).toBe(-1);
    expect(cborHash('x'.repeat(64_000), env(999))).toBe(-1);
    const hostile = {
      get a() {
        throw new Error('no');
      },
    };
    expect(cborHash(hostile, env())).toBe(-1);
  });

  it('hashes the encoded bytes with MurmurHash3 (flagd-spec §b.6.4 spot checks)', () => {
    for (const [value, bytes, hash] of [
      ['user1', '657573657231', 3686933882],
      [true, 'f5', 836216331],
      [123, '187b', 3334029857],
      [1.23, 'fb3ff3ae147ae147ae', 2393468550],
    ] as const) {
      expect(hex(value)).toBe(bytes);
      expect(murmurReference.x86.hash32(fromHex(bytes), 0) >>> 0).toBe(hash);
      expect(cborHash(value, env())).toBe(hash);
    }
    const pair = '8278196672616374696f6e616c2d666c61672d73686f727468616e6466757365722d31';
    expect(hex(['fractional-flag-shorthand', 'user-1'])).toBe(pair);
    expect(cborPairHash('fractional-flag-shorthand', 'user-1')).toBe(1080331339);
  });

  it('hashes any value, and any pair of strings (a flag key repeats), as the bytes they encode to', () => {
    const json = fc.jsonValue().filter((v) => v !== null);
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }));
    const key = fc.constantFrom('f', 'flag-é', 'fractional-flag-shorthand');
    fc.assert(
      fc.property(json, key, text, (value, a, b) => {
        const bytes = encodeCbor(value, env()) as Uint8Array;
        expect(cborHash(value, env())).toBe(murmurReference.x86.hash32(bytes, 0) >>> 0);
        const pair = encodeCbor([a, b], env()) as Uint8Array;
        expect(cborPairHash(a, b)).toBe(murmurReference.x86.hash32(pair, 0) >>> 0);
      }),
    );
  });
});
