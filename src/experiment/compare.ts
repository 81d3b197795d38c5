import {
  absoluteLift,
  alwaysValidPValue,
  confidenceSequence,
  meanRelativeLift,
  proportionInterval,
  relativeLift,
  relativeLiftEstimate,
  studentTQuantile,
  twoProportionZTest,
  welchInterval,
  welchTTest,
  type Estimate,
  type MeanSample,
} from '../stats/index.js';
import { meanOf } from '../stats/means.js';
import type { MetricKind, VariantCounts } from './types.js';

/** An estimate with a two-sided interval. */
export interface EstimateInterval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** One variant's rate (conversion) or mean value per user (mean), with its 1 − α interval. */
export interface VariantSummary {
  readonly variant: string;
  readonly users: number;
  readonly conversions: number;
  /** The conversion rate (Wilson interval) or the mean per user (t interval); none without users. */
  readonly value: EstimateInterval | undefined;
}

/** The fixed-horizon test: the two-proportion z-test (pooled SE) or Welch's t-test, two-tailed. */
export interface FixedTest {
  readonly test: 'z' | 'welch';
  readonly statistic: number;
  /** Welch–Satterthwaite degrees of freedom (Welch only). */
  readonly df?: number;
  readonly pValue: number;
}

/**
 * The anytime-valid result: the mixture-SPRT confidence sequence of the relative lift (valid at
 * every look at once) and the always-valid p-value that matches it (the smallest α at which the
 * sequence excludes 0).
 */
export interface SequentialResult {
  readonly relative: EstimateInterval;
  readonly pValue: number;
  /** The mixture scale used, on the relative lift (0.05: a 5 % lift). */
  readonly tau: number;
}

/** A treatment against the control on one metric, before any multiple-comparison correction. */
export interface RawComparison {
  readonly control: VariantSummary;
  readonly treatment: VariantSummary;
  /** treatment − control (points of rate, or units of value per user). */
  readonly absolute: EstimateInterval | undefined;
  /** treatment / control − 1, by the delta method; none unless the control's rate or mean is above 0. */
  readonly relative: EstimateInterval | undefined;
  readonly fixed: FixedTest | undefined;
  readonly sequential: SequentialResult | undefined;
}

const proportion = (c: VariantCounts) => ({ users: c.users, conversions: c.conversions });
const interval = (e: { estimate: number; low: number; high: number }): EstimateInterval => ({
  estimate: e.estimate,
  low: e.low,
  high: e.high,
});

/** A variant's values as a sample of per-user values: n, Σx, Σx². */
export function meanSample(c: VariantCounts): MeanSample {
  return { n: c.users, sum: c.valueSum ?? 0, sumSquares: c.valueSumSquares ?? 0 };
}

/**
 * A variant's estimate and the variance of that estimate: the rate with p(1−p)/n, p smoothed as
 * (x+½)/(n+1) so that no conversions yet is not a variance of zero (as the rollout guardrails do);
 * or the mean with s²/n.
 */
export function estimateOf(kind: MetricKind, c: VariantCounts): Estimate | undefined {
  if (!(c.users > 0)) return undefined;
  if (kind === 'conversion') {
    const smooth = (c.conversions + 0.5) / (c.users + 1);
    return { estimate: c.conversions / c.users, variance: (smooth * (1 - smooth)) / c.users };
  }
  const { mean, variance } = meanOf(meanSample(c));
  return { estimate: mean, variance: c.users > 1 ? variance / c.users : 0 };
}

/**
 * The relative lift treatment / control − 1 of two independent estimates, with its delta-method
 * variance Var(t)/c² + t²·Var(c)/c⁴. Undefined unless the control's estimate is positive.
 */
export function relativeEstimate(control: Estimate, treatment: Estimate): Estimate | undefined {
  const c = control.estimate;
  if (!(c > 0)) return undefined;
  const t = treatment.estimate;
  return {
    estimate: t / c - 1,
    variance: treatment.variance / (c * c) + (t * t * control.variance) / c ** 4,
  };
}

function summary(kind: MetricKind, c: VariantCounts, alpha: number): VariantSummary {
  const base = { variant: c.variant, users: c.users, conversions: c.conversions };
  if (!(c.users > 0)) return { ...base, value: undefined };
  if (kind === 'conversion')
    return { ...base, value: interval(proportionInterval(proportion(c), alpha)) };
  const { mean, variance } = meanOf(meanSample(c));
  const half =
    c.users > 1
      ? studentTQuantile(1 - alpha / 2, c.users - 1) * Math.sqrt(variance / c.users)
      : Number.POSITIVE_INFINITY;
  return { ...base, value: { estimate: mean, low: mean - half, high: mean + half } };
}

/** The sequential result of the relative lift, if the control's rate or mean is positive. */
function sequentialOf(
  kind: MetricKind,
  control: VariantCounts,
  treatment: VariantCounts,
  alpha: number,
  tau: number,
): SequentialResult | undefined {
  let relative: Estimate | undefined;
  if (kind === 'conversion') {
    // the estimate the simulations of src/stats test (smoothed rates for the variance)
    relative = relativeLiftEstimate(proportion(control), proportion(treatment));
  } else {
    const c = estimateOf(kind, control);
    const t = estimateOf(kind, treatment);
    relative = c && t ? relativeEstimate(c, t) : undefined;
  }
  if (relative === undefined) return undefined;
  const cs = confidenceSequence(relative, alpha, tau);
  return {
    relative: { estimate: cs.estimate, low: cs.lower, high: cs.upper },
    pValue: alwaysValidPValue(relative, tau),
    tau,
  };
}

function conversionParts(control: VariantCounts, treatment: VariantCounts, alpha: number) {
  const c = proportion(control);
  const t = proportion(treatment);
  const z = twoProportionZTest(c, t);
  const relative = control.conversions > 0 ? interval(relativeLift(c, t, alpha)) : undefined;
  return {
    absolute: interval(absoluteLift(c, t, alpha)),
    relative,
    fixed: { test: 'z', statistic: z.z, pValue: z.p } as const,
  };
}

function meanParts(control: VariantCounts, treatment: VariantCounts, alpha: number) {
  const c = meanSample(control);
  const t = meanSample(treatment);
  const welch = welchTTest(c, t);
  const relative = meanRelativeLift(c, t, alpha);
  // a lift relative to a negative mean has no meaning (and the sequential test has none either)
  const base = c.n > 0 ? c.sum / c.n : Number.NaN;
  return {
    absolute: interval(welchInterval(c, t, alpha)),
    relative: Number.isNaN(relative.estimate) || !(base > 0) ? undefined : interval(relative),
    fixed: { test: 'welch', statistic: welch.t, df: welch.df, pValue: welch.p } as const,
  };
}

/**
 * One treatment against the control on one metric: each variant's rate or mean with its interval,
 * the absolute and relative lift with their intervals, the fixed-horizon test and, when `tau` is
 * given, the anytime-valid confidence sequence and p-value of the relative lift. Without users in
 * both variants (or, for means, under two users in either) nothing is compared.
 */
export function compareVariants(
  kind: MetricKind,
  control: VariantCounts,
  treatment: VariantCounts,
  alpha: number,
  tau: number | undefined,
): RawComparison {
  const summaries = {
    control: summary(kind, control, alpha),
    treatment: summary(kind, treatment, alpha),
  };
  const minimum = kind === 'conversion' ? 1 : 2;
  if (control.users < minimum || treatment.users < minimum)
    return {
      ...summaries,
      absolute: undefined,
      relative: undefined,
      fixed: undefined,
      sequential: undefined,
    };
  const parts =
    kind === 'conversion'
      ? conversionParts(control, treatment, alpha)
      : meanParts(control, treatment, alpha);
  const sequential =
    tau === undefined ? undefined : sequentialOf(kind, control, treatment, alpha, tau);
  return { ...summaries, ...parts, sequential };
}
