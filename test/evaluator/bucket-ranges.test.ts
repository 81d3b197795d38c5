import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  configuredShares,
  HASH_SPACE,
  hashRanges,
  rangeMoves,
  type WeightedBucket,
} from '../../src/evaluator/bucket-ranges.js';
import { bucketOf } from '../../src/evaluator/murmur3.js';

/** The variant `fractional` gives a hash: its bucket, then the first cumulative weight above it. */
function variantOf(hash: number, buckets: readonly WeightedBucket[]): string | undefined {
  const total = buckets.reduce((sum, b) => sum + Math.max(0, b.weight), 0);
  const bucket = bucketOf(hash, total);
  let end = 0;
  for (const b of buckets) {
    end += Math.max(0, b.weight);
    if (bucket < end) return b.variant;
  }
  return undefined;
}

const inRange = (hash: number, buckets: readonly WeightedBucket[]) =>
  hashRanges(buckets)?.find((r) => hash >= r.start && hash < r.end)?.variant;

const tables = fc.array(
  fc.record({
    variant: fc.constantFrom('a', 'b', 'c'),
    weight: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2 ** 29 })),
  }),
  { minLength: 1, maxLength: 5 },
);

describe('hashRanges', () => {
  it('gives each hash the variant fractional gives it, at every range boundary', () => {
    fc.assert(
      fc.property(tables, (buckets) => {
        const ranges = hashRanges(buckets);
        if (ranges === undefined) return buckets.every((b) => b.weight === 0);
        expect(ranges.at(-1)?.end).toBe(HASH_SPACE);
        for (const range of ranges) {
          if (range.end === range.start) continue;
          for (const hash of [range.start, range.end - 1])
            expect(variantOf(hash, buckets)).toBe(range.variant);
        }
        return true;
      }),
    );
  });

  it('agrees with fractional on random hashes', () => {
    fc.assert(
      fc.property(tables, fc.integer({ min: 0, max: HASH_SPACE - 1 }), (buckets, hash) => {
        expect(inRange(hash, buckets)).toBe(variantOf(hash, buckets));
      }),
    );
  });

  it('is undefined when every weight is zero (nobody is bucketed)', () => {
    expect(hashRanges([{ variant: 'a', weight: 0 }])).toBeUndefined();
  });

  it('adds up the shares of a variant listed twice', () => {
    const shares = configuredShares([
      { variant: 'on', weight: 5 },
      { variant: 'off', weight: 90 },
      { variant: 'on', weight: 5 },
    ]);
    expect(shares.get('on')).toBeCloseTo(0.1, 9);
    expect(shares.get('off')).toBeCloseTo(0.9, 9);
  });
});

describe('rangeMoves', () => {
  const table = (on: number): WeightedBucket[] => [
    { variant: 'on', weight: on },
    { variant: 'off', weight: 100 - on },
  ];

  it('moves exactly 15 % off → on for a 10 → 25 % ramp, and nobody on → off', () => {
    const moves = rangeMoves(table(10), table(25));
    const move = (from: string, to: string) => moves.find((m) => m.from === from && m.to === to);
    expect(move('off', 'on')?.share).toBeCloseTo(0.15, 9);
    expect(move('on', 'off')).toBeUndefined();
    expect(move('on', 'on')?.share).toBeCloseTo(0.1, 9);
    expect(moves.reduce((sum, m) => sum + m.hashes, 0)).toBe(HASH_SPACE);
  });

  it('moves everybody when a 50/50 list is reordered', () => {
    const moves = rangeMoves(table(50), [
      { variant: 'off', weight: 50 },
      { variant: 'on', weight: 50 },
    ]);
    expect(moves.filter((m) => m.from !== m.to).reduce((sum, m) => sum + m.share, 0)).toBe(1);
  });

  it('is the exact count of hashes that change variant', () => {
    fc.assert(
      fc.property(tables, tables, fc.integer({ min: 0, max: HASH_SPACE - 1 }), (a, b, hash) => {
        const moves = rangeMoves(a, b);
        const [from, to] = [variantOf(hash, a), variantOf(hash, b)];
        if (from === undefined || to === undefined) return;
        expect(moves.some((m) => m.from === from && m.to === to && m.hashes > 0)).toBe(true);
        expect(moves.reduce((sum, m) => sum + m.hashes, 0)).toBe(HASH_SPACE);
      }),
    );
  });
});
