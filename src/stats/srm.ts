import { chiSquaredTail } from './gamma.js';

/** A sample-ratio-mismatch test's outcome. */
export interface SrmResult {
  /** Pearson's χ² statistic of the observed counts against the expected split. */
  readonly statistic: number;
  /** Degrees of freedom: cohorts with a non-zero expected share, less one. */
  readonly df: number;
  /** P(χ² ≥ statistic) if the split were as expected; 1 when there is nothing to test. */
  readonly pValue: number;
}

/**
 * Sample ratio mismatch: Pearson's χ² goodness-of-fit of the counts each cohort received against the
 * shares the weights imply (`[1, 99]` or `[0.01, 0.99]` alike). A small p-value means the traffic
 * is not split as configured (a bug in assignment, a redirect losing one cohort, a bot), so the
 * comparison cannot be trusted. Counted in requests, heavy users make the counts over-dispersed and
 * the test too eager; counted in users, it is exact.
 */
export function sampleRatioMismatch(
  observed: readonly number[],
  weights: readonly number[],
): SrmResult {
  if (observed.length !== weights.length)
    throw new RangeError(`${observed.length} counts for ${weights.length} weights`);
  const total = observed.reduce((sum, n) => sum + n, 0);
  const weightSum = weights.reduce((sum, w) => sum + w, 0);
  if (total === 0 || weightSum <= 0) return { statistic: 0, df: 0, pValue: 1 };
  let statistic = 0;
  let cohorts = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = (total * (weights[i] as number)) / weightSum;
    if (expected === 0) {
      // traffic where none was expected cannot be explained by chance
      if ((observed[i] as number) > 0) return { statistic: Infinity, df: 1, pValue: 0 };
      continue;
    }
    cohorts++;
    statistic += ((observed[i] as number) - expected) ** 2 / expected;
  }
  const df = cohorts - 1;
  return { statistic, df, pValue: df < 1 ? 1 : chiSquaredTail(statistic, df) };
}
