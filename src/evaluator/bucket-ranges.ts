/**
 * The hash ranges a `fractional` bucket table gives each variant, and what moves between two
 * tables keyed alike: the exact arithmetic behind `rampflag diff`'s "15 % of subjects move off → on".
 *
 * `fractional` puts a subject in bucket `floor(hash * total / 2^32)` and gives it the first variant
 * whose cumulative weight exceeds the bucket. So variant `i` holds exactly the hashes in
 * `[ceil(end[i-1] * 2^32 / total), ceil(end[i] * 2^32 / total))`: a range of the 2^32 hashes that
 * can be measured, and compared with another table's ranges, without hashing anyone.
 */

/** One bucket of a literal `fractional` table: a variant and its weight (negative counts as 0). */
export interface WeightedBucket {
  readonly variant: string;
  readonly weight: number;
}

/** A range of hashes `[start, end)` (each in 0 … 2^32) and the variant it gets. */
export interface HashRange {
  readonly variant: string;
  readonly start: number;
  readonly end: number;
}

/** A share of subjects that get `from` under one table and `to` under another. */
export interface RangeMove {
  readonly from: string;
  readonly to: string;
  /** Hashes that move, of the 2^32 (exact). */
  readonly hashes: number;
  /** `hashes / 2^32`: the share of subjects, when hashes are uniform. */
  readonly share: number;
}

const HASHES = 2n ** 32n;
/** The number of hashes: 2^32. */
export const HASH_SPACE = 4294967296;

/**
 * The hash range of each bucket, in order, as `fractional` (flagd v2 bucketing) assigns them:
 * empty ranges for zero weights. `undefined` when the weights add up to zero (the table yields
 * `null`, so nobody is bucketed).
 */
export function hashRanges(buckets: readonly WeightedBucket[]): HashRange[] | undefined {
  const weights = buckets.map((b) => BigInt(Math.max(0, Math.trunc(b.weight))));
  const total = weights.reduce((sum, w) => sum + w, 0n);
  if (total === 0n) return undefined;
  const ranges: HashRange[] = [];
  let end = 0n;
  let start = 0;
  for (const [i, bucket] of buckets.entries()) {
    end += weights[i] as bigint;
    // ceil(end * 2^32 / total) in exact integer arithmetic
    const stop = Number((end * HASHES + total - 1n) / total);
    ranges.push({ variant: bucket.variant, start, end: stop });
    start = stop;
  }
  return ranges;
}

/** Each variant's share of the hashes under `buckets` (a variant listed twice adds up). */
export function configuredShares(buckets: readonly WeightedBucket[]): Map<string, number> {
  const shares = new Map<string, number>();
  for (const range of hashRanges(buckets) ?? [])
    shares.set(
      range.variant,
      (shares.get(range.variant) ?? 0) + (range.end - range.start) / HASH_SPACE,
    );
  return shares;
}

/**
 * What happens to every hash going from table `before` to table `after` (both keyed alike, so a
 * subject keeps its hash): the hashes for each `from → to` pair, stays (`from === to`) included,
 * largest first. Empty when either table buckets nobody.
 */
export function rangeMoves(
  before: readonly WeightedBucket[],
  after: readonly WeightedBucket[],
): RangeMove[] {
  const a = hashRanges(before)?.filter((r) => r.end > r.start);
  const b = hashRanges(after)?.filter((r) => r.end > r.start);
  if (a === undefined || b === undefined) return [];
  const moves = new Map<string, { from: string; to: string; hashes: number }>();
  let i = 0;
  let j = 0;
  let at = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as HashRange;
    const y = b[j] as HashRange;
    const stop = Math.min(x.end, y.end);
    const pair = JSON.stringify([x.variant, y.variant]);
    const move = moves.get(pair) ?? { from: x.variant, to: y.variant, hashes: 0 };
    move.hashes += stop - at;
    moves.set(pair, move);
    at = stop;
    if (x.end === stop) i++;
    if (y.end === stop) j++;
  }
  return [...moves.values()]
    .map((m) => ({ ...m, share: m.hashes / HASH_SPACE }))
    .sort((m, n) => n.hashes - m.hashes);
}
