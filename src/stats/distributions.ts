/**
 * The normal and Student-t distributions, from jstat (1.9.6): the one file that imports it, so the
 * rest of src/stats reads `normalCdf(z)` and a change of library is a change here. Checked against
 * @stdlib's implementations and published tables in test/stats/distributions.test.ts.
 *
 * Accuracy, as measured against @stdlib: `normalCdf` to 2e-16 absolute (a tail below ~1e-15 reads
 * as 0, so p-values that small print as 0); `normalQuantile` to 1e-11 for p in [1e-6, 1 − 1e-6];
 * `studentTCdf` to 2e-8 absolute up to 3e6 degrees of freedom and 6e-8 beyond; `studentTQuantile` to
 * 1e-6 relative for p in [1e-3, 0.999].
 */
import jStat from 'jstat';

/**
 * Above this many degrees of freedom the t distribution is the normal to within 5e-8 (the largest
 * gap is about 0.16/df), closer than jstat's incomplete beta function gets with parameters this
 * large, so the normal is used (its gap, 5e-8 at 3e6, shrinks from there).
 */
const NORMAL_DF = 3e6;

/** Φ(z) = P(Z ≤ z) for a standard normal Z. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  return jStat.normal.cdf(z, 0, 1);
}

/** Φ⁻¹(p): the z with P(Z ≤ z) = p; −∞ at 0, +∞ at 1, NaN outside [0, 1]. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  return jStat.normal.inv(p, 0, 1);
}

/**
 * P(T ≤ t) for Student's t with `df` > 0 degrees of freedom (not necessarily whole: Welch's are
 * not). Computed as ½·I_{df/(df+t²)}(df/2, ½) for the tail below −|t| (Abramowitz & Stegun 26.7.1
 * with 26.5.27), so tails keep their relative accuracy; jstat's own `studentt.cdf` goes through
 * I_x(df/2, df/2) near x = ½, where its continued fraction stops short for df above ~1e5 (off by
 * 0.02 at df = 1e6).
 */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (df > NORMAL_DF) return normalCdf(t);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const x = df / (df + t * t);
  const beta = jStat.ibeta(x, df / 2, 0.5);
  const tail = beta === false ? Number.NaN : 0.5 * beta;
  return t > 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` > 0 degrees of freedom; ∓∞ at 0 and 1. Past 3e6 degrees
 * of freedom, the normal quantile with the first Cornish–Fisher term, z + (z³ + z)/(4·df)
 * (Abramowitz & Stegun 26.7.5), whose error is below 1e-12 there.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p >= 0 && p <= 1) || !(df > 0)) return Number.NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (df > NORMAL_DF) {
    const z = normalQuantile(p);
    return z + (z ** 3 + z) / (4 * df);
  }
  return jStat.studentt.inv(p, df);
}

/**
 * P(T ≤ t) for the noncentral t with `df` degrees of freedom and noncentrality `ncp`: the power of
 * a t-test (src/stats/power.ts). jstat sums its Poisson-weighted beta series; past 3e6 degrees of
 * freedom, N(ncp, 1).
 */
export function noncentralTCdf(t: number, df: number, ncp: number): number {
  if (Number.isNaN(t) || Number.isNaN(ncp) || !(df > 0)) return Number.NaN;
  if (df > NORMAL_DF) return normalCdf(t - ncp);
  if (ncp === 0) return studentTCdf(t, df);
  return jStat.noncentralt.cdf(t, df, ncp);
}

/** The two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|). */
export function normalTwoSidedP(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/** The two-sided p-value of a t statistic with `df` degrees of freedom: P(|T| ≥ |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t)) return Number.NaN;
  return Math.min(1, 2 * studentTCdf(-Math.abs(t), df));
}
