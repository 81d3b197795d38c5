import { sampleRatioMismatch } from '../stats/index.js';
import { pIs } from './format.js';
import type { ExperimentData } from './types.js';

/** Sample ratio mismatch is declared under this χ² p-value (as for rollouts). */
export const SRM_THRESHOLD = 0.001;

/** The sample-ratio-mismatch check on the users assigned per variant. */
export interface SrmCheck {
  readonly observed: Readonly<Record<string, number>>;
  /** Shares that add up to 1. */
  readonly expected: Readonly<Record<string, number>>;
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  /** p < {@link SRM_THRESHOLD}: the split is not the configured one, and no comparison can be trusted. */
  readonly mismatch: boolean;
}

/** The SRM check of the users assigned per variant against the expected shares (equal by default). */
export function srmOf(data: ExperimentData): SrmCheck {
  const first = data.metrics[0]?.variants ?? [];
  const observed =
    data.assignment ?? Object.fromEntries(first.map((v) => [v.variant, v.users] as const));
  const names = [...new Set([...Object.keys(observed), ...Object.keys(data.expectedShares ?? {})])];
  // own names only: a variant called `constructor` or `__proto__` is no inherited property
  const own = (record: Readonly<Record<string, number>>, n: string) =>
    Object.hasOwn(record, n) ? (record[n] as number) : 0;
  const shares = data.expectedShares;
  const weights = names.map((n) => (shares === undefined ? 1 : own(shares, n)));
  const total = weights.reduce((a, w) => a + w, 0);
  const counts = names.map((n) => own(observed, n));
  const result = sampleRatioMismatch(counts, weights);
  return {
    observed: Object.fromEntries(names.map((n, i) => [n, counts[i] as number])),
    expected: Object.fromEntries(names.map((n, i) => [n, (weights[i] as number) / total])),
    ...result,
    mismatch: result.pValue < SRM_THRESHOLD,
  };
}

/** The SRM warning for people. */
export function srmWarning(srm: SrmCheck): string {
  const names = Object.keys(srm.observed);
  const users = names.map((n) => `${n} ${(srm.observed[n] ?? 0).toLocaleString('en-US')}`);
  const shares = names.map((n) => `${((srm.expected[n] ?? 0) * 100).toFixed(1)} %`);
  const chi = Number.isFinite(srm.statistic) ? srm.statistic.toFixed(1) : '∞';
  return `Sample ratio mismatch: users ${users.join(' / ')} against expected ${shares.join(' / ')} (χ² = ${chi}, p ${pIs(srm.pValue)}): assignment or counting is broken, and no comparison can be trusted.`;
}
