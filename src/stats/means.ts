/**
 * Mean metrics (revenue per user, items per order) from their sufficient statistics: Welch's
 * t-test, its interval, and the difference of means as an estimate for the confidence sequence.
 */
import { studentTQuantile, studentTTwoSidedP } from './distributions.js';
import type { Estimate } from './sequential.js';
import { checkAlpha, checkCount } from './validate.js';
import type { ConfidenceInterval } from './proportions.js';

/** One variant's per-user values, summarised: how many, their sum and their sum of squares. */
export interface MeanSample {
  readonly n: number;
  readonly sum: number;
  readonly sumSquares: number;
}

/** Welch's t-test's outcome. */
export interface WelchResult {
  /** difference / se. */
  readonly t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  readonly df: number;
  /** Two-tailed: P(|T_df| ≥ |t|). */
  readonly p: number;
  /** x̄_t − x̄_c. */
  readonly difference: number;
  /** sqrt( s_t²/n_t + s_c²/n_c ). */
  readonly se: number;
}

/**
 * A sample's mean and its sample variance s² = (Σx² − (Σx)²/n) / (n − 1), clamped at 0 against
 * rounding (sums of squares lose digits when the mean is large against the spread; nothing better
 * can be done from sums alone). NaN mean without values, NaN variance with fewer than two.
 * @internal
 */
export function meanOf(sample: MeanSample, name = 'sample'): { mean: number; variance: number } {
  checkCount(`${name}.n`, sample.n);
  checkCount(`${name}.sumSquares`, sample.sumSquares);
  if (!Number.isFinite(sample.sum))
    throw new RangeError(`${name}.sum must be finite, got ${sample.sum}`);
  const { n, sum, sumSquares } = sample;
  const mean = n > 0 ? sum / n : Number.NaN;
  const variance = n > 1 ? Math.max(0, (sumSquares - (sum * sum) / n) / (n - 1)) : Number.NaN;
  return { mean, variance };
}

/**
 * Welch's unequal-variances t-test of H0: μ_t = μ_c (Welch 1947), with the Welch–Satterthwaite
 * degrees of freedom
 *
 *   df = (v_t + v_c)² / ( v_t²/(n_t − 1) + v_c²/(n_c − 1) ),  v = s²/n.
 *
 * NaN figures unless each variant has two values or more. If both variances are 0, t is ±∞ (p = 0)
 * for different means and 0 (p = 1) for equal ones, with df = n_t + n_c − 2.
 *
 * @example
 * welchTTest({ n: 249, sum: 5016.0, sumSquares: 111_285 }, { n: 79, sum: 2408.0, sumSquares: 76_308 });
 */
export function welchTTest(control: MeanSample, treatment: MeanSample): WelchResult {
  const c = meanOf(control, 'control');
  const t = meanOf(treatment, 'treatment');
  const difference = t.mean - c.mean;
  if (Number.isNaN(c.variance) || Number.isNaN(t.variance)) {
    return { t: Number.NaN, df: Number.NaN, p: Number.NaN, difference, se: Number.NaN };
  }
  const vc = c.variance / control.n;
  const vt = t.variance / treatment.n;
  const se = Math.sqrt(vc + vt);
  if (se === 0) {
    const df = control.n + treatment.n - 2;
    if (difference === 0) return { t: 0, df, p: 1, difference, se };
    return { t: Math.sign(difference) * Infinity, df, p: 0, difference, se };
  }
  const df = (vc + vt) ** 2 / (vc ** 2 / (control.n - 1) + vt ** 2 / (treatment.n - 1));
  const statistic = difference / se;
  return { t: statistic, df, p: studentTTwoSidedP(statistic, df), difference, se };
}

/** x̄_t − x̄_c ± t_{1−α/2, df}·se: the interval that goes with Welch's test. */
export function welchInterval(
  control: MeanSample,
  treatment: MeanSample,
  alpha: number,
): ConfidenceInterval {
  checkAlpha(alpha);
  const { difference, se, df } = welchTTest(control, treatment);
  const half = se === 0 ? 0 : studentTQuantile(1 - alpha / 2, df) * se;
  return { estimate: difference, low: difference - half, high: difference + half };
}

/**
 * x̄_t − x̄_c with V = s_t²/n_t + s_c²/n_c, for the confidence sequence and the always-valid p-value.
 * Undefined unless each variant has two values or more.
 */
export function meanDifference(control: MeanSample, treatment: MeanSample): Estimate | undefined {
  const c = meanOf(control, 'control');
  const t = meanOf(treatment, 'treatment');
  if (Number.isNaN(c.variance) || Number.isNaN(t.variance)) return undefined;
  return { estimate: t.mean - c.mean, variance: t.variance / treatment.n + c.variance / control.n };
}
