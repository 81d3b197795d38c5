import stdNormalCdf from '@stdlib/stats-base-dists-normal-cdf';
import stdNormalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import stdTCdf from '@stdlib/stats-base-dists-t-cdf';
import stdTQuantile from '@stdlib/stats-base-dists-t-quantile';
import { describe, expect, it } from 'vitest';
import {
  noncentralTCdf,
  normalCdf,
  normalQuantile,
  normalTwoSidedP,
  studentTCdf,
  studentTQuantile,
  studentTTwoSidedP,
} from '../../src/stats/distributions.js';

/** |actual − expected| within an absolute and a relative tolerance, whichever is looser. */
const close = (actual: number, expected: number, abs: number, rel = 0) =>
  Math.abs(actual - expected) <= Math.max(abs, rel * Math.abs(expected));

const grid = (from: number, to: number, step: number) =>
  Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);

const DFS = [1, 2, 3, 4.5, 7, 10, 29.3, 136.875, 1_000, 1e5, 1e6, 2.9e6, 3.1e6, 1e8];

describe('normalCdf', () => {
  // NIST/SEMATECH e-Handbook of Statistical Methods §1.3.6.7.1, "Cumulative distribution function
  // of the standard normal distribution": the table gives the area from 0 to z (so Φ(z) − ½).
  it.each([
    [0.5, 0.19146],
    [1.0, 0.34134],
    [1.96, 0.475],
    [2.58, 0.49506],
    [3.0, 0.49865],
  ])('Φ(%d) − ½ is %d as in the NIST table', (z, area) => {
    expect(normalCdf(z) - 0.5).toBeCloseTo(area, 5);
    expect(0.5 - normalCdf(-z)).toBeCloseTo(area, 5);
  });

  it('agrees with @stdlib to 1e-15 from z = −9 to 9', () => {
    for (const z of grid(-9, 9, 0.01)) {
      expect(close(normalCdf(z), stdNormalCdf(z, 0, 1), 1e-15)).toBe(true);
    }
  });

  it('is NaN for NaN, 0 and 1 at the infinities', () => {
    expect(normalCdf(Number.NaN)).toBeNaN();
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
  });
});

describe('normalQuantile', () => {
  // NIST e-Handbook §1.3.6.7.1, critical values of the normal distribution (1.282, 1.645, 1.960,
  // 2.326, 2.576, 3.090), here to the six decimals every table of z_{1−α/2} prints.
  it.each([
    [0.8, 0.841621],
    [0.9, 1.281552],
    [0.95, 1.644854],
    [0.975, 1.959964],
    [0.99, 2.326348],
    [0.995, 2.575829],
    [0.999, 3.090232],
  ])('Φ⁻¹(%d) is %d', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 6);
    expect(normalQuantile(1 - p)).toBeCloseTo(-z, 6);
  });

  it('agrees with @stdlib to 1e-11 for p in [1e-6, 1 − 1e-6]', () => {
    const ps = [...grid(0.001, 0.999, 0.001), 1e-6, 1e-5, 1e-4, 1 - 1e-4, 1 - 1e-5, 1 - 1e-6];
    for (const p of ps)
      expect(close(normalQuantile(p), stdNormalQuantile(p, 0, 1), 1e-11)).toBe(true);
  });

  it('inverts normalCdf', () => {
    for (const z of grid(-5, 5, 0.25)) expect(normalQuantile(normalCdf(z))).toBeCloseTo(z, 8);
  });

  it('is ∓∞ at 0 and 1 and NaN outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    for (const p of [-0.1, 1.1, Number.NaN]) expect(normalQuantile(p)).toBeNaN();
  });
});

describe('studentTCdf', () => {
  it('agrees with @stdlib to 6e-8 for t in [−30, 30], df from 1 to 1e8', () => {
    for (const df of DFS) {
      for (const t of grid(-30, 30, 0.05)) {
        expect(close(studentTCdf(t, df), stdTCdf(t, df), df <= 3e6 ? 2e-8 : 6e-8)).toBe(true);
      }
    }
  });

  it('keeps the relative accuracy of its lower tail (p-values of large t)', () => {
    for (const df of [1, 10, 136.875, 1_000, 1e5]) {
      for (const t of [-4, -8, -15, -30]) {
        expect(close(studentTCdf(t, df), stdTCdf(t, df), 0, 1e-6)).toBe(true);
      }
    }
  });

  it('is right near t = 0 with a million degrees of freedom, where jstat.studentt.cdf is not', () => {
    expect(close(studentTCdf(0.002, 1e6), stdTCdf(0.002, 1e6), 1e-8)).toBe(true);
    expect(studentTCdf(0, 1e6)).toBeCloseTo(0.5, 12);
  });

  it('is NaN without degrees of freedom, 0 and 1 at the infinities', () => {
    expect(studentTCdf(1, 0)).toBeNaN();
    expect(studentTCdf(1, Number.NaN)).toBeNaN();
    expect(studentTCdf(Number.NaN, 3)).toBeNaN();
    expect(studentTCdf(-Infinity, 3)).toBe(0);
    expect(studentTCdf(Infinity, 3)).toBe(1);
  });
});

describe('studentTQuantile', () => {
  // NIST e-Handbook §1.3.6.7.2, "Critical values of the Student's t distribution" (upper-tail
  // probability α, so the quantile at 1 − α), three decimals as printed.
  it.each([
    [1, 0.05, 6.314],
    [1, 0.025, 12.706],
    [1, 0.005, 63.657],
    [2, 0.025, 4.303],
    [5, 0.025, 2.571],
    [10, 0.05, 1.812],
    [10, 0.025, 2.228],
    [10, 0.01, 2.764],
    [10, 0.005, 3.169],
    [30, 0.025, 2.042],
    [100, 0.025, 1.984],
    [Infinity, 0.025, 1.96],
    [Infinity, 0.05, 1.645],
  ])('with %d degrees of freedom, the upper %d point is %d', (df, alpha, t) => {
    expect(studentTQuantile(1 - alpha, df)).toBeCloseTo(t, 3);
  });

  it('agrees with @stdlib to 1e-6 (relative) for p in [0.001, 0.999], df from 1 to 1e8', () => {
    for (const df of DFS) {
      for (const p of grid(0.001, 0.999, 0.002)) {
        expect(close(studentTQuantile(p, df), stdTQuantile(p, df), 1e-7, 1e-6)).toBe(true);
      }
    }
  });

  it('is NaN outside its domain, ∓∞ at 0 and 1', () => {
    expect(studentTQuantile(0.5, 0)).toBeNaN();
    expect(studentTQuantile(1.5, 3)).toBeNaN();
    expect(studentTQuantile(0, 3)).toBe(-Infinity);
    expect(studentTQuantile(1, 3)).toBe(Infinity);
  });
});

describe('noncentralTCdf', () => {
  // Values from scipy.stats.nct (SciPy 1.17.1) as an independent oracle.
  it.each([
    [2.0, 10, 1.5, 0.6591541],
    [1.97, 100, 3.5, 0.0642259],
    [-1, 20, 0.5, 0.0708246],
  ])('P(T ≤ %d | df %d, ncp %d) is %d', (t, df, ncp, expected) => {
    expect(noncentralTCdf(t, df, ncp)).toBeCloseTo(expected, 6);
  });

  it('is the central t at ncp 0 and N(ncp, 1) past 3e6 degrees of freedom', () => {
    expect(noncentralTCdf(1.3, 12, 0)).toBe(studentTCdf(1.3, 12));
    expect(noncentralTCdf(2, 1e7, 1.5)).toBeCloseTo(normalCdf(0.5), 12);
  });
});

describe('two-sided p-values', () => {
  it('are P(|Z| ≥ |z|) and P(|T| ≥ |t|)', () => {
    expect(normalTwoSidedP(1.959964)).toBeCloseTo(0.05, 6);
    expect(normalTwoSidedP(-1.959964)).toBeCloseTo(0.05, 6);
    expect(normalTwoSidedP(0)).toBe(1);
    expect(studentTTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 4);
    expect(studentTTwoSidedP(-2.228, 10)).toBeCloseTo(0.05, 4);
    expect(normalTwoSidedP(Number.NaN)).toBeNaN();
  });
});
