import { FlagdCore } from '@openfeature/flagd-core';
import fc from 'fast-check';
// An independent, byte-oriented MurmurHash3 port checked against the C++ reference.
import murmurReference from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { bucketOf, murmur3, PrefixMurmur3 } from '../../src/evaluator/murmur3.js';
import { createEvaluator } from '../../src/evaluator/index.js';

const utf8 = new TextEncoder();
const reference = (key: string): number => murmurReference.x86.hash32(utf8.encode(key), 0) >>> 0;

describe('murmur3', () => {
  it.each([
    ['', 0],
    ['hello', 0x248bfa47],
    // the flagd-testbed hash edge keys: 0, 1, 2^31-1, 2^31, 2^32-1
    ['ejOoVL', 0],
    ['bY9fO-', 1],
    ['SI7p-', 2147483647],
    ['6LvT0', 2147483648],
    ['ceQdGm', 4294967295],
    ['fractional-flagjack', 2682799072],
    // computed from UTF-8 bytes by flagd (Go twmb/murmur3) and Python mmh3, per flagd-spec §b.6.5
    ['café', 605818632],
  ])('hashes %j to %d', (key, hash) => {
    expect(murmur3(key)).toBe(hash);
  });

  it.each([
    'café',
    'あいう',
    'Zürich',
    '😀 emoji',
    'user-Ω-42',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    'a\u0000b',
    'a\u0100bc',
    'ab\u0101cdefg',
  ])('hashes the UTF-8 bytes of %j as the reference implementation does', (key) => {
    expect(murmur3(key)).toBe(reference(key));
  });

  it('agrees with the reference on any string, lone surrogates encoded as U+FFFD', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (key) => {
        expect(murmur3(key)).toBe(reference(key));
      }),
      { numRuns: 2000 },
    );
  });

  it('hashes with a remembered prefix as with none, whatever the prefixes and suffixes', () => {
    const hasher = new PrefixMurmur3();
    const prefixes = ['four-way', 'f', 'abc', 'abcd', 'abcde', 'café', '', 'flag-\u{1F600}'];
    fc.assert(
      fc.property(
        fc.constantFrom(...prefixes),
        fc.string({ unit: 'binary', maxLength: 20 }),
        (prefix, suffix) => {
          expect(hasher.hash(prefix, suffix)).toBe(reference(prefix + suffix));
          // the same prefix again takes the remembered state
          expect(hasher.hash(prefix, suffix)).toBe(reference(prefix + suffix));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('hashes a key given in two parts as their concatenation', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 20 }),
        (a, b) => {
          expect(murmur3(a, b)).toBe(reference(a + b));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('puts non-ASCII keys in the bucket flagd (Go) computes, where flagd-core does not', () => {
    const config = {
      flags: {
        split: {
          state: 'ENABLED',
          variants: { a: 'a', b: 'b' },
          defaultVariant: 'a',
          targeting: { fractional: [{ var: 'k' }, ['a', 50], ['b', 50]] },
        },
      },
    };
    const ours = createEvaluator();
    ours.setConfiguration(config);
    const core = new FlagdCore();
    core.setConfigurations(JSON.stringify(config));
    const variantFor = (key: string) => (bucketOf(reference(key), 100) < 50 ? 'a' : 'b');
    let coreDiffers = 0;
    for (const key of ['café', 'あいう', 'Zürich', 'naïve', 'Ωmega', 'über', '北京', 'ß']) {
      expect(ours.resolveString('split', 'x', { k: key }).value).toBe(variantFor(key));
      if (core.resolveStringEvaluation('split', 'x', { k: key }).value !== variantFor(key))
        coreDiffers++;
    }
    // flagd-core hashes UTF-16 code units, so some non-ASCII keys land elsewhere.
    expect(coreDiffers).toBeGreaterThan(0);
  });
});

describe('bucketOf', () => {
  it.each([
    ['any total up to 2^31-1', 2147483647],
    ['the small totals of the fast path, up to 2^21', 0x200001],
  ])('equals floor(hash * total / 2^32) computed with BigInt, for %s', (_name, maxTotal) => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.integer({ min: 1, max: maxTotal }),
        (hash, total) => {
          expect(bucketOf(hash, total)).toBe(Number((BigInt(hash) * BigInt(total)) >> 32n));
        },
      ),
      { numRuns: 20000 },
    );
  });

  it.each([
    [0, 100, 0],
    [4294967295, 100, 99],
    [2147483648, 100, 50],
    [4294967295, 2147483647, 2147483646],
    [4294967295, 0x200000, 0x1fffff],
    [4294967295, 0x200001, 0x200000],
  ])('bucketOf(%d, %d) = %d', (hash, total, bucket) => {
    expect(bucketOf(hash, total)).toBe(bucket);
  });
});
