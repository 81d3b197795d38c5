import { rangeMoves, type RangeMove, type WeightedBucket } from '../evaluator/bucket-ranges.js';
import { isObject } from '../evaluator/json-path.js';
import { canonicalJson } from './canonical-json.js';
import { defaultOf, pairFractionals, shareText, targetingOf } from './diff-flags.js';
import { fractionalsIn, wholeFractional, type FractionalNode } from './fractionals.js';

type Json = Record<string, unknown>;

/**
 * Why a change re-buckets subjects who already had a treatment:
 * - `reordered-buckets`: the bucket list's order changed, so the hash ranges map to other variants;
 * - `bucketing-key`: the first argument of `fractional` changed, so every subject hashes anew;
 * - `renamed-flag`: a flag removed and one added alike, with implicit bucketing (flagKey +
 *   targetingKey): the new key hashes everyone anew;
 * - `weight-shrink`: a treatment's weight shrank, taking it from some who had it;
 * - `bucket-shift`: a treatment kept its weight but its range moved (a bucket before it grew).
 */
export type RebucketKind =
  'reordered-buckets' | 'bucketing-key' | 'renamed-flag' | 'weight-shrink' | 'bucket-shift';

/** One cause of re-bucketing found in a flag's change. */
export interface RebucketCause {
  readonly kind: RebucketKind;
  /** The `fractional`'s JSON path in the new flag. */
  readonly path: string;
  /** What changed, for people. */
  readonly detail: string;
  /** The treatments concerned. */
  readonly variants: readonly string[];
  /**
   * The exact share of the subjects this split buckets who lose a treatment, from the bucket
   * ranges; `undefined` when the hashes change (a new key), so only a sample can tell.
   */
  readonly exactLoss?: number;
  /** Whether the split is the flag's whole targeting (its shares are then shares of everyone). */
  readonly whole: boolean;
}

/**
 * The variant a flag falls back to, which is no treatment: its rollout's safe variant
 * (`rollout.safeVariant` metadata), else its default variant. `undefined`: every variant is one.
 */
export function controlOf(flag: Json): string | undefined {
  const metadata = isObject(flag['metadata']) ? flag['metadata'] : {};
  const safe = metadata['rollout.safeVariant'];
  return typeof safe === 'string' && safe !== '' ? safe : defaultOf(flag);
}

/** The variants of `flag` that count as treatments: every one but its control. */
export function treatmentsOf(flag: Json): Set<string> {
  const variants = isObject(flag['variants']) ? Object.keys(flag['variants']) : [];
  const control = controlOf(flag);
  return new Set(variants.filter((v) => v !== control));
}

/** Variants with weight, in the order they first appear. */
const order = (buckets: readonly WeightedBucket[]): string[] => [
  ...new Set(buckets.filter((b) => b.weight > 0).map((b) => b.variant)),
];

const weightShare = (buckets: readonly WeightedBucket[], variant: string): number => {
  const total = buckets.reduce((sum, b) => sum + b.weight, 0);
  const own = buckets.filter((b) => b.variant === variant).reduce((sum, b) => sum + b.weight, 0);
  return total === 0 ? 0 : own / total;
};

/** Causes found in one pair of splits keyed alike with literal buckets. */
function rangeCauses(
  a: readonly WeightedBucket[],
  b: readonly WeightedBucket[],
  path: string,
  treatments: ReadonlySet<string>,
  whole: boolean,
): RebucketCause[] {
  const lost = new Map<string, number>();
  for (const move of rangeMoves(a, b))
    if (move.from !== move.to && treatments.has(move.from))
      lost.set(move.from, (lost.get(move.from) ?? 0) + move.share);
  if (lost.size === 0) return [];
  const [before, after] = [order(a), order(b)];
  const common = new Set(before.filter((v) => after.includes(v)));
  const kept = [before.filter((v) => common.has(v)), after.filter((v) => common.has(v))];
  if (kept[0]?.join('\u0000') !== kept[1]?.join('\u0000')) {
    const variants = [...lost.keys()];
    const exactLoss = [...lost.values()].reduce((sum, s) => sum + s, 0);
    const detail = `the bucket list was reordered (${before.join(', ')} → ${after.join(', ')})`;
    return [{ kind: 'reordered-buckets', path, detail, variants, exactLoss, whole }];
  }
  return [...lost].map(([variant, exactLoss]) => {
    const [was, now] = [weightShare(a, variant), weightShare(b, variant)];
    return now < was
      ? {
          kind: 'weight-shrink',
          path,
          detail: `'${variant}' shrank from ${shareText(was)} to ${shareText(now)}`,
          variants: [variant],
          exactLoss,
          whole,
        }
      : {
          kind: 'bucket-shift',
          path,
          detail: `'${variant}' kept ${shareText(was)}${now > was ? ` (now ${shareText(now)})` : ''} but its hash range moved: a bucket before it changed`,
          variants: [variant],
          exactLoss,
          whole,
        };
  });
}

/** What in the change from `before` to `after` (the same flag) re-buckets subjects with a treatment. */
export function rebucketCauses(before: Json, after: Json): RebucketCause[] {
  const treatments = treatmentsOf(before);
  if (treatments.size === 0) return [];
  const [old, now] = [fractionalsIn(targetingOf(before)), fractionalsIn(targetingOf(after))];
  const whole = wholeFractional(targetingOf(before)) !== undefined;
  const causes: RebucketCause[] = [];
  for (const [a, b] of pairFractionals(old, now)) {
    const isWhole = whole && old.length === 1 && now.length === 1;
    if (a.keyText !== b.keyText) {
      const detail = `the bucketing key changed (${a.keyText} → ${b.keyText})`;
      const variants = [...treatments];
      causes.push({ kind: 'bucketing-key', path: b.path, detail, variants, whole: isWhole });
    } else if (a.buckets !== undefined && b.buckets !== undefined)
      causes.push(...rangeCauses(a.buckets, b.buckets, b.path, treatments, isWhole));
  }
  return causes;
}

/** Whether `node` buckets by a key the rule can compute for everybody the same way on both sides. */
const keyedByRule = (node: FractionalNode): boolean => node.key === undefined || isObject(node.key);

/**
 * The exact moves between variants, from the bucket ranges, when they can be known without a
 * sample: both versions enabled, with the same default, and targeting that is one `fractional`
 * with literal buckets naming their variants, bucketed by the same key. Stays (`from === to`)
 * included. `undefined` otherwise.
 */
export function exactMoves(before: Json, after: Json): RangeMove[] | undefined {
  if (before['state'] !== 'ENABLED' || after['state'] !== 'ENABLED') return undefined;
  if (defaultOf(before) !== defaultOf(after)) return undefined;
  const [a, b] = [wholeFractional(targetingOf(before)), wholeFractional(targetingOf(after))];
  if (a?.buckets === undefined || b?.buckets === undefined) return undefined;
  if (a.keyText !== b.keyText || !keyedByRule(a)) return undefined;
  const named = (flag: Json, buckets: readonly WeightedBucket[]) =>
    isObject(flag['variants']) &&
    buckets.every((x) => Object.hasOwn(flag['variants'] as Json, x.variant));
  if (!named(before, a.buckets) || !named(after, b.buckets)) return undefined;
  return rangeMoves(a.buckets, b.buckets);
}

/** A removed flag and an added one that look like one renamed, re-bucketing everyone. */
export interface RenameCandidate {
  readonly from: string;
  readonly to: string;
  /** The split of the removed flag that hashed its key. */
  readonly path: string;
}

/**
 * Removed flags that look renamed to an added one: the same variants, and a `fractional` that
 * hashed the old key (implicit bucketing, or `$flagd.flagKey` in its key), so under the new key
 * everyone is bucketed anew. An added flag with the same targeting is preferred.
 */
export function renameCandidates(
  removed: ReadonlyMap<string, Json>,
  added: ReadonlyMap<string, Json>,
): RenameCandidate[] {
  const taken = new Set<string>();
  const found: RenameCandidate[] = [];
  for (const [from, flag] of [...removed].sort(([x], [y]) => x.localeCompare(y))) {
    const split = fractionalsIn(targetingOf(flag)).find((node) => node.usesFlagKey);
    if (split === undefined) continue;
    const variants = canonicalJson(flag['variants']);
    const targeting = canonicalJson(targetingOf(flag));
    const alike = [...added]
      .filter(([key, other]) => !taken.has(key) && canonicalJson(other['variants']) === variants)
      .filter(([, other]) => fractionalsIn(targetingOf(other)).length > 0)
      .sort(([x, p], [y, q]) => {
        const same = (f: Json) => (canonicalJson(targetingOf(f)) === targeting ? 0 : 1);
        return same(p) - same(q) || x.localeCompare(y);
      });
    const to = alike[0]?.[0];
    if (to === undefined) continue;
    taken.add(to);
    found.push({ from, to, path: split.path });
  }
  return found;
}
