/**
 * Sample sizes and power for the fixed-horizon tests of src/stats: the pooled two-proportion
 * z-test and Welch's t-test, both at equal allocation. The experiment planner reads them: "to
 * detect a 5 % relative lift on a 3 % baseline at 80 % power you need N users per variant".
 *
 * Proportions (Fleiss, Levin & Paik, "Statistical Methods for Rates and Proportions", 3rd ed.,
 * 2003, §4.2, without continuity correction; the formula of R's `power.prop.test`): with
 * p₂ = p₁(1 + lift), p̄ = (p₁ + p₂)/2, z_a = Φ⁻¹(1 − α/2) (or 1 − α one-sided), z_b = Φ⁻¹(power),
 *
 *   n = ( z_a·sqrt(2·p̄(1 − p̄)) + z_b·sqrt(p₁(1 − p₁) + p₂(1 − p₂)) )² / (p₂ − p₁)²
 *
 * per variant — the null spread is the pooled one, as in the test that will be run.
 *
 * Means (R's `power.t.test`): power = P(T'_{2n−2, δ·sqrt(n/2)/σ} > t_{1−α/2, 2n−2}) with T' the
 * noncentral t, solved for the smallest whole n.
 */
import { noncentralTCdf, normalCdf, normalQuantile, studentTQuantile } from './distributions.js';
import { checkAlpha } from './validate.js';

/** What the proportions planner needs. */
export interface ProportionsPlan {
  /** The control's conversion rate, in (0, 1). */
  readonly baseline: number;
  /** The relative change to detect: 0.05 for +5 % (p₂ = baseline·1.05); negative for a drop. */
  readonly relativeLift: number;
  readonly alpha: number;
  /** Wanted power, in (0, 1). */
  readonly power: number;
  /** Two-sided test (default) or one-sided in the lift's direction. */
  readonly twoSided?: boolean;
}

/** What the means planner needs. */
export interface MeansPlan {
  /** The per-user standard deviation of the metric (assumed equal in both variants). */
  readonly sd: number;
  /** The absolute difference in means to detect. */
  readonly difference: number;
  readonly alpha: number;
  readonly power: number;
  readonly twoSided?: boolean;
}

function checkPower(power: number): void {
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
}

/** A whole count from a real one, forgiving rounding just above an integer. */
const whole = (n: number) => Math.max(2, Math.ceil(n - 1e-9));

function rates({ baseline, relativeLift }: Pick<ProportionsPlan, 'baseline' | 'relativeLift'>) {
  if (!(baseline > 0 && baseline < 1))
    throw new RangeError(`baseline must be in (0, 1), got ${baseline}`);
  if (!(Number.isFinite(relativeLift) && relativeLift !== 0))
    throw new RangeError(`relativeLift must be a non-zero number, got ${relativeLift}`);
  let p2 = baseline * (1 + relativeLift);
  if (p2 > 1 && p2 < 1 + 1e-12) p2 = 1;
  if (!(p2 >= 0 && p2 <= 1))
    throw new RangeError(
      `baseline ${baseline} with relativeLift ${relativeLift} is a rate of ${p2}, outside [0, 1]`,
    );
  const pBar = (baseline + p2) / 2;
  return {
    delta: Math.abs(p2 - baseline),
    nullSd: Math.sqrt(2 * pBar * (1 - pBar)),
    altSd: Math.sqrt(baseline * (1 - baseline) + p2 * (1 - p2)),
  };
}

const zAlpha = (alpha: number, twoSided: boolean) =>
  normalQuantile(1 - (twoSided ? alpha / 2 : alpha));

/** The unrounded n per variant of the formula above (the planner rounds it up). */
export function exactSampleSizeForProportions(plan: ProportionsPlan): number {
  checkAlpha(plan.alpha);
  checkPower(plan.power);
  const { delta, nullSd, altSd } = rates(plan);
  const n =
    (zAlpha(plan.alpha, plan.twoSided ?? true) * nullSd + normalQuantile(plan.power) * altSd) /
    delta;
  return n * n;
}

/**
 * Users per variant for the pooled two-proportion z-test to detect `relativeLift` on `baseline`
 * with the given power (formula above), rounded up.
 *
 * @example
 * sampleSizeForProportions({ baseline: 0.03, relativeLift: 0.05, alpha: 0.05, power: 0.8 }); // 207,938
 */
export function sampleSizeForProportions(plan: ProportionsPlan): number {
  return whole(exactSampleSizeForProportions(plan));
}

/**
 * The power of the pooled two-proportion z-test with `n` users per variant:
 * Φ( (sqrt(n)·|p₂ − p₁| − z_a·sqrt(2p̄(1 − p̄))) / sqrt(p₁(1 − p₁) + p₂(1 − p₂)) ).
 */
export function powerForProportions(plan: Omit<ProportionsPlan, 'power'> & { n: number }): number {
  checkAlpha(plan.alpha);
  if (!(plan.n > 0)) throw new RangeError(`n must be positive, got ${plan.n}`);
  const { delta, nullSd, altSd } = rates(plan);
  return normalCdf(
    (Math.sqrt(plan.n) * delta - zAlpha(plan.alpha, plan.twoSided ?? true) * nullSd) / altSd,
  );
}

/**
 * The power of the two-sample t-test (equal variances and allocation; Welch's test has nearly the
 * same) with `n` users per variant, as R's `power.t.test` (the far tail left out).
 */
export function powerForMeans(plan: Omit<MeansPlan, 'power'> & { n: number }): number {
  checkAlpha(plan.alpha);
  const { sd, difference, n } = plan;
  if (!(sd > 0)) throw new RangeError(`sd must be positive, got ${sd}`);
  if (!(n >= 2)) throw new RangeError(`n must be at least 2, got ${n}`);
  const df = 2 * n - 2;
  const ncp = (Math.abs(difference) / sd) * Math.sqrt(n / 2);
  const critical = studentTQuantile(
    1 - ((plan.twoSided ?? true) ? plan.alpha / 2 : plan.alpha),
    df,
  );
  return 1 - noncentralTCdf(critical, df, ncp);
}

/**
 * Users per variant for the two-sample t-test to detect `difference` with the given power: the
 * smallest whole n with `powerForMeans` ≥ power (R's `power.t.test`, rounded up). Infinity for a
 * difference too small against the sd to plan for at all (n beyond 1e308).
 */
export function sampleSizeForMeans(plan: MeansPlan): number {
  checkAlpha(plan.alpha);
  checkPower(plan.power);
  if (!(plan.sd > 0)) throw new RangeError(`sd must be positive, got ${plan.sd}`);
  if (!(Number.isFinite(plan.difference) && plan.difference !== 0))
    throw new RangeError(`difference must be a non-zero number, got ${plan.difference}`);
  const twoSided = plan.twoSided ?? true;
  const powerAt = (n: number) => powerForMeans({ ...plan, n, twoSided });
  // the normal approximation is a lower bound; walk up from just below it
  const z = zAlpha(plan.alpha, twoSided) + normalQuantile(plan.power);
  const approximate = 2 * (z * (plan.sd / plan.difference)) ** 2;
  let low = 2;
  let high = Math.max(4, Math.ceil(approximate) + 1);
  for (let doublings = 0; powerAt(high) < plan.power && doublings < 64; doublings++) high *= 2;
  low = Math.max(low, Math.floor(approximate) - 1);
  if (powerAt(low) >= plan.power) return low;
  // bisect over whole numbers: powerAt(low) < power ≤ powerAt(high); past 2^53 doubles are
  // further apart than 1, and the search ends where no double lies between the two
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (mid <= low || mid >= high) break;
    if (powerAt(mid) >= plan.power) high = mid;
    else low = mid;
  }
  return high;
}

/**
 * Days to enrol `nPerVariant` users in each of `variants` variants (control included) when
 * `usersPerDay` new users enter the experiment a day; Infinity without traffic.
 */
export function daysNeeded(nPerVariant: number, variants: number, usersPerDay: number): number {
  if (!(nPerVariant >= 0 && Number.isFinite(nPerVariant)))
    throw new RangeError(`nPerVariant must be a finite number ≥ 0, got ${nPerVariant}`);
  if (!(Number.isInteger(variants) && variants >= 1))
    throw new RangeError(`variants must be a whole number ≥ 1, got ${variants}`);
  if (!(usersPerDay >= 0)) throw new RangeError(`usersPerDay must be ≥ 0, got ${usersPerDay}`);
  if (nPerVariant === 0) return 0;
  if (usersPerDay === 0) return Infinity;
  return Math.ceil((nPerVariant * variants) / usersPerDay - 1e-9);
}
