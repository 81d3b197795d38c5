/**
 * Anytime-valid confidence sequences for rates and for differences of rates, from the mixture
 * sequential probability ratio test of Johari, Koomen, Pekelis and Walsh, "Peeking at A/B tests"
 * (KDD 2017). With an estimate θ̂ whose variance is V, and a normal mixture of variance τ² over the
 * alternatives,
 *
 *   θ ∈ θ̂ ± sqrt( V(V+τ²)/τ² · (2·ln(1/α) + ln((V+τ²)/V)) )
 *
 * holds at every look at once with probability ≥ 1 − α, however often one looks. A fixed-sample
 * z-interval checked at every look does not: it excludes the truth far more often than α.
 */

/** Counts of one cohort: events that went badly (errors, slow requests, conversions) and all events. */
export interface Counts {
  readonly bad: number;
  readonly total: number;
}

/** An estimate and its variance. */
export interface Estimate {
  readonly estimate: number;
  readonly variance: number;
}

/** An estimate with its anytime-valid interval. */
export interface Interval extends Estimate {
  readonly lower: number;
  readonly upper: number;
}

/**
 * A rate's variance term p(1−p) with p smoothed as (bad + ½)/(total + 1), so zero failures (the
 * common case) never gives a variance of zero.
 */
function binomialTerm({ bad, total }: Counts): number {
  const p = (bad + 0.5) / (total + 1);
  return p * (1 - p);
}

/** One cohort's rate, bad/total, and its variance; undefined without events. */
export function rateOf(counts: Counts): Estimate | undefined {
  if (!(counts.total > 0)) return undefined;
  return { estimate: counts.bad / counts.total, variance: binomialTerm(counts) / counts.total };
}

/** treatment − control, and its variance; undefined unless both cohorts have events. */
export function differenceOf(treatment: Counts, control: Counts): Estimate | undefined {
  if (!(treatment.total > 0 && control.total > 0)) return undefined;
  return {
    estimate: treatment.bad / treatment.total - control.bad / control.total,
    variance: binomialTerm(treatment) / treatment.total + binomialTerm(control) / control.total,
  };
}

/** One stratum's difference with the weight it carries in a stratified estimate. */
export interface Stratum {
  readonly treatment: Counts;
  readonly control: Counts;
}

/**
 * The difference treatment − control stratified over periods with different splits (one stratum
 * per rollout step): each stratum's difference, weighted by its effective size n_t·n_c/(n_t+n_c).
 * Pooling the counts instead would mix periods whose rates differ for reasons of their own
 * (Simpson's paradox). Strata without events in both cohorts are left out; undefined if all are.
 */
export function stratifiedDifference(strata: readonly Stratum[]): Estimate | undefined {
  let weightSum = 0;
  const parts: { weight: number; estimate: Estimate }[] = [];
  for (const { treatment, control } of strata) {
    const estimate = differenceOf(treatment, control);
    if (estimate === undefined) continue;
    const weight = (treatment.total * control.total) / (treatment.total + control.total);
    weightSum += weight;
    parts.push({ weight, estimate });
  }
  if (parts.length === 0) return undefined;
  let estimate = 0;
  let variance = 0;
  for (const part of parts) {
    const w = part.weight / weightSum;
    estimate += w * part.estimate.estimate;
    variance += w * w * part.estimate.variance;
  }
  return { estimate, variance };
}

/**
 * The anytime-valid interval around `estimate` at level 1 − `alpha`, for a mixture of scale `tau`
 * (the size of effect that matters: the interval is tightest when the true effect is near τ).
 */
export function confidenceSequence(estimate: Estimate, alpha: number, tau: number): Interval {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tau > 0)) throw new RangeError(`tau must be positive, got ${tau}`);
  const v = Math.max(estimate.variance, Number.MIN_VALUE);
  const t2 = tau * tau;
  // in this order so that a V near 0 (values without spread) gives ~0, not 0·∞ = NaN
  const half = Math.sqrt(
    v * ((v + t2) / t2) * (2 * Math.log(1 / alpha) + Math.log(v + t2) - Math.log(v)),
  );
  return { ...estimate, lower: estimate.estimate - half, upper: estimate.estimate + half };
}
