/**
 * Lift of a treatment over its control, absolute (p_t − p_c) and relative (p_t / p_c − 1), each with
 * a normal-approximation interval.
 *
 * Relative lift, by the delta method (Kohavi, Tang & Xu, "Trustworthy Online Controlled
 * Experiments", 2020, §18; Deng, Knoblich & Lu, "Applying the Delta Method in Metric Analytics",
 * KDD 2018): for independent estimates p̂_t and p̂_c with variances V_t and V_c, R̂ = p̂_t / p̂_c has
 *
 *   Var(R̂) ≈ R̂² · ( V_t / p̂_t² + V_c / p̂_c² ) = ( V_t + R̂² · V_c ) / p̂_c²
 *
 * (the second form needs no division by p̂_t, so a treatment without conversions is fine), and the
 * interval is R̂ − 1 ± z·sqrt(Var R̂). For rates V = p̂(1 − p̂)/n; for means V = s²/n.
 */
import { normalQuantile } from './distributions.js';
import { meanOf, type MeanSample } from './means.js';
import { checkProportion, rate, type ConfidenceInterval, type Proportion } from './proportions.js';
import type { Estimate } from './sequential.js';
import { checkAlpha } from './validate.js';

/** A lift with its interval and the standard error the interval came from. */
export interface LiftInterval extends ConfidenceInterval {
  readonly se: number;
}

const NO_LIFT: LiftInterval = {
  estimate: Number.NaN,
  low: Number.NaN,
  high: Number.NaN,
  se: Number.NaN,
};

function interval(estimate: number, se: number, alpha: number): LiftInterval {
  const half = normalQuantile(1 - alpha / 2) * se;
  return { estimate, low: estimate - half, high: estimate + half, se };
}

/** Both rates, after checking both counts (a RangeError names the bad one); NaN without users. */
function checkedRates(control: Proportion, treatment: Proportion): [number, number] {
  checkProportion('control', control);
  checkProportion('treatment', treatment);
  return [rate(control), rate(treatment)];
}

/**
 * p̂_t − p̂_c with the unpooled Wald interval at level 1 − alpha:
 * (p̂_t − p̂_c) ± z·sqrt( p̂_t(1−p̂_t)/n_t + p̂_c(1−p̂_c)/n_c ). NaN when a variant has no users.
 */
export function absoluteLift(
  control: Proportion,
  treatment: Proportion,
  alpha: number,
): LiftInterval {
  const [pc, pt] = checkedRates(control, treatment);
  checkAlpha(alpha);
  if (Number.isNaN(pc) || Number.isNaN(pt)) return NO_LIFT;
  const se = Math.sqrt((pt * (1 - pt)) / treatment.users + (pc * (1 - pc)) / control.users);
  return interval(pt - pc, se, alpha);
}

/** (estimate_t / estimate_c − 1) and its delta-method interval, from two means and their variances. */
function ratioLift(
  control: { mean: number; variance: number },
  treatment: { mean: number; variance: number },
  alpha: number,
): LiftInterval {
  if (!(control.mean !== 0 && Number.isFinite(control.mean)) || Number.isNaN(treatment.mean))
    return NO_LIFT;
  const ratio = treatment.mean / control.mean;
  const variance = (treatment.variance + ratio * ratio * control.variance) / control.mean ** 2;
  return interval(ratio - 1, Math.sqrt(variance), alpha);
}

/**
 * p̂_t / p̂_c − 1 with its delta-method interval at level 1 − alpha (formula above). NaN when the
 * control has no users or no conversions (a lift over nothing is undefined).
 */
export function relativeLift(
  control: Proportion,
  treatment: Proportion,
  alpha: number,
): LiftInterval {
  const [pc, pt] = checkedRates(control, treatment);
  checkAlpha(alpha);
  if (Number.isNaN(pc) || Number.isNaN(pt)) return NO_LIFT;
  return ratioLift(
    { mean: pc, variance: (pc * (1 - pc)) / control.users },
    { mean: pt, variance: (pt * (1 - pt)) / treatment.users },
    alpha,
  );
}

/** p(1 − p)/n with p smoothed as (x + ½)/(n + 1), as `proportionDifference` does: never 0. */
function smoothedVariance({ users, conversions }: Proportion): number {
  const p = (conversions + 0.5) / (users + 1);
  return (p * (1 - p)) / users;
}

/**
 * p̂_t / p̂_c − 1 with its delta-method variance (V_t + R̂²·V_c)/p̂_c², as the estimate of the
 * confidence sequence and the always-valid p-value on the relative scale (τ then a relative lift
 * too): the experiment analysis' anytime-valid test. Each V is p(1 − p)/n with p smoothed as
 * (x + ½)/(n + 1), so that a variant without conversions yet (or with nothing but) does not make
 * the variance 0 and the test certain. Undefined when the control has no users or no conversions,
 * or the treatment no users.
 */
export function relativeLiftEstimate(
  control: Proportion,
  treatment: Proportion,
): Estimate | undefined {
  const [pc, pt] = checkedRates(control, treatment);
  if (!(pc > 0) || Number.isNaN(pt)) return undefined;
  const ratio = pt / pc;
  return {
    estimate: ratio - 1,
    variance: (smoothedVariance(treatment) + ratio * ratio * smoothedVariance(control)) / (pc * pc),
  };
}

/**
 * x̄_t / x̄_c − 1 for a mean metric (revenue per user), with the delta-method interval, each mean's
 * variance s²/n. NaN when a variant has fewer than two users or the control's mean is 0.
 */
export function meanRelativeLift(
  control: MeanSample,
  treatment: MeanSample,
  alpha: number,
): LiftInterval {
  checkAlpha(alpha);
  const c = meanOf(control, 'control');
  const t = meanOf(treatment, 'treatment');
  return ratioLift(
    { mean: c.mean, variance: c.variance / control.n },
    { mean: t.mean, variance: t.variance / treatment.n },
    alpha,
  );
}
