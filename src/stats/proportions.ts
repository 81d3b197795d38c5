/**
 * Conversion rates: the two-proportion z-test the runbooks use (pooled standard error, two-tailed
 * p), the Wilson score interval for one rate, and the difference of two rates as an estimate for the
 * anytime-valid confidence sequence.
 */
import { normalQuantile, normalTwoSidedP } from './distributions.js';
import { differenceOf, type Estimate } from './sequential.js';
import { checkAlpha, checkCount } from './validate.js';

/** One variant's users and the users among them who converted. */
export interface Proportion {
  readonly users: number;
  readonly conversions: number;
}

/** A point estimate with a two-sided confidence interval. */
export interface ConfidenceInterval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** The two-proportion z-test's outcome. */
export interface ZTestResult {
  /** (p̂_t − p̂_c) / pooledSe: positive when the treatment converts more. */
  readonly z: number;
  /** Two-tailed: P(|Z| ≥ |z|) under p_t = p_c. */
  readonly p: number;
  /** sqrt( p̂(1 − p̂)(1/n_c + 1/n_t) ), p̂ the pooled rate (x_c + x_t)/(n_c + n_t). */
  readonly pooledSe: number;
}

/** Throws a RangeError unless 0 ≤ conversions ≤ users, both finite. @internal */
export function checkProportion(name: string, { users, conversions }: Proportion): void {
  checkCount(`${name}.users`, users);
  checkCount(`${name}.conversions`, conversions);
  if (conversions > users)
    throw new RangeError(`${name}.conversions (${conversions}) exceed its users (${users})`);
}

/** conversions / users; NaN without users. */
export function rate({ users, conversions }: Proportion): number {
  return users > 0 ? conversions / users : Number.NaN;
}

/**
 * The two-proportion z-test of H0: p_t = p_c, with the pooled standard error. NaN figures when a
 * variant has no users; z = 0 and p = 1 when nobody (or everybody) converted in both.
 *
 * @example
 * twoProportionZTest({ users: 10_000, conversions: 300 }, { users: 10_000, conversions: 345 });
 * // { z: 1.80…, p: 0.071…, pooledSe: 0.00243… }
 */
export function twoProportionZTest(control: Proportion, treatment: Proportion): ZTestResult {
  checkProportion('control', control);
  checkProportion('treatment', treatment);
  const nc = control.users;
  const nt = treatment.users;
  if (!(nc > 0 && nt > 0)) return { z: Number.NaN, p: Number.NaN, pooledSe: Number.NaN };
  const pooled = (control.conversions + treatment.conversions) / (nc + nt);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nt));
  const difference = rate(treatment) - rate(control);
  if (pooledSe === 0) return { z: 0, p: 1, pooledSe };
  const z = difference / pooledSe;
  return { z, p: normalTwoSidedP(z), pooledSe };
}

/**
 * The Wilson score interval for one rate at level 1 − alpha (Wilson 1927; method 3 of Newcombe
 * 1998): with z = Φ⁻¹(1 − α/2), p̂ = x/n,
 *
 *   ( p̂ + z²/2n ± z·sqrt( p̂(1 − p̂)/n + z²/4n² ) ) / (1 + z²/n)
 *
 * It stays inside [0, 1] and keeps its coverage near 0 and 1, where the Wald interval collapses.
 * Without users the rate is NaN and the interval [0, 1].
 */
export function proportionInterval(x: Proportion, alpha: number): ConfidenceInterval {
  checkProportion('proportion', x);
  checkAlpha(alpha);
  const n = x.users;
  if (!(n > 0)) return { estimate: Number.NaN, low: 0, high: 1 };
  const p = x.conversions / n;
  const z = normalQuantile(1 - alpha / 2);
  const z2n = (z * z) / n;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return {
    estimate: p,
    low: x.conversions === 0 ? 0 : Math.max(0, center - half),
    high: x.conversions === n ? 1 : Math.min(1, center + half),
  };
}

/**
 * p̂_t − p̂_c with the variance the confidence sequence uses, V = p̃_t(1−p̃_t)/n_t + p̃_c(1−p̃_c)/n_c,
 * the rates smoothed as (x + ½)/(n + 1) so that no conversions yet never gives V = 0 (the same
 * estimate as `differenceOf` for rollouts). Undefined unless both variants have users.
 */
export function proportionDifference(
  control: Proportion,
  treatment: Proportion,
): Estimate | undefined {
  checkProportion('control', control);
  checkProportion('treatment', treatment);
  return differenceOf(
    { bad: treatment.conversions, total: treatment.users },
    { bad: control.conversions, total: control.users },
  );
}
