import { sampleRatioMismatch } from '../stats/index.js';
import type { SplitProbe, Tally } from './distribution-tally.js';
import type { FractionalNode } from './fractionals.js';

/** Below this p-value the split is said not to match its configured weights. */
export const MISMATCH_P = 0.001;

/** Subjects and share of one variant; `configuredShare` where a fractional configures one. */
export interface VariantCount {
  readonly variant: string;
  readonly subjects: number;
  readonly share: number;
  readonly configuredShare?: number;
}

/** Pearson's χ² goodness of fit of a split's buckets against their weights. */
export interface ChiSquared {
  /** `null` when a bucket with no weight got subjects (impossible by chance). */
  readonly statistic: number | null;
  readonly df: number;
  readonly pValue: number;
  readonly verdict: 'consistent' | 'mismatch' | 'untested';
}

/** What one `fractional` did to the subjects it split. */
export interface SplitReport {
  readonly path: string;
  readonly bucketingKey: string;
  readonly subjects: number;
  readonly variants: readonly VariantCount[];
  readonly chiSquared: ChiSquared;
}

/** The numbers `rampflag distribution` prints (and `--json` gives as they are). */
export interface DistributionReport {
  readonly flag: string;
  readonly total: number;
  readonly variants: readonly VariantCount[];
  readonly splits: readonly SplitReport[];
  /** Fractionals whose weights or variants are rules: no share is configured up front. */
  readonly dynamicSplits: readonly string[];
  readonly cohorts?: {
    readonly attribute: string;
    readonly groups: readonly {
      readonly cohort: string;
      readonly subjects: number;
      readonly variants: readonly VariantCount[];
    }[];
  };
  /** Whether any split's χ² p-value is under {@link MISMATCH_P}. */
  readonly mismatch: boolean;
  readonly firstError?: string;
}

function counts(map: ReadonlyMap<string, number>, total: number): VariantCount[] {
  return [...map]
    .map(([variant, subjects]) => ({
      variant,
      subjects,
      share: total === 0 ? 0 : subjects / total,
    }))
    .sort((a, b) => b.subjects - a.subjects || a.variant.localeCompare(b.variant));
}

function chiSquared(observed: readonly number[], weights: readonly number[]): ChiSquared {
  const { statistic, df, pValue } = sampleRatioMismatch(observed, weights);
  const verdict = df < 1 ? 'untested' : pValue < MISMATCH_P ? 'mismatch' : 'consistent';
  return { statistic: Number.isFinite(statistic) ? statistic : null, df, pValue, verdict };
}

/** One split's counts by variant (buckets of one variant added up) and its χ² check. */
function splitReport(node: FractionalNode, observed: readonly number[]): SplitReport {
  const buckets = node.buckets ?? [];
  const totalWeight = buckets.reduce((sum, b) => sum + b.weight, 0);
  const subjects = observed.reduce((sum, n) => sum + n, 0);
  const byVariant = new Map<string, { subjects: number; weight: number }>();
  buckets.forEach((bucket, i) => {
    const entry = byVariant.get(bucket.variant) ?? { subjects: 0, weight: 0 };
    entry.subjects += observed[i] ?? 0;
    entry.weight += bucket.weight;
    byVariant.set(bucket.variant, entry);
  });
  const variants = [...byVariant].map(([variant, e]) => ({
    variant,
    subjects: e.subjects,
    share: subjects === 0 ? 0 : e.subjects / subjects,
    configuredShare: totalWeight === 0 ? 0 : e.weight / totalWeight,
  }));
  return {
    path: node.path,
    bucketingKey: node.keyText,
    subjects,
    variants,
    chiSquared: chiSquared(
      observed,
      buckets.map((b) => b.weight),
    ),
  };
}

/** The report of a tally: counts, shares, configured shares and χ² checks. */
export function distributionReport(
  flag: string,
  tally: Tally,
  probe: SplitProbe | undefined,
  dynamic: readonly FractionalNode[],
  cohort: string | undefined,
): DistributionReport {
  const splits = (probe?.splits ?? []).map((node, k) =>
    splitReport(node, tally.splitCounts[k] ?? []),
  );
  let variants = counts(tally.variants, tally.total);
  const only = splits.length === 1 && dynamic.length === 0 ? splits[0] : undefined;
  if (only !== undefined && only.subjects === tally.total) {
    // one fractional split everybody: its configured shares are the flag's
    const configured = new Map(only.variants.map((v) => [v.variant, v.configuredShare ?? 0]));
    variants = variants.map((v) => ({ ...v, configuredShare: configured.get(v.variant) ?? 0 }));
  }
  const groups =
    tally.cohorts === undefined
      ? undefined
      : [...tally.cohorts]
          .map(([name, map]) => {
            const subjects = [...map.values()].reduce((sum, n) => sum + n, 0);
            return { cohort: name, subjects, variants: counts(map, subjects) };
          })
          .sort((a, b) => b.subjects - a.subjects || a.cohort.localeCompare(b.cohort));
  return {
    flag,
    total: tally.total,
    variants,
    splits,
    dynamicSplits: dynamic.map((node) => node.path),
    ...(groups === undefined || cohort === undefined
      ? {}
      : { cohorts: { attribute: cohort, groups } }),
    mismatch: splits.some((s) => s.chiSquared.verdict === 'mismatch'),
    ...(tally.firstError === undefined ? {} : { firstError: tally.firstError }),
  };
}
