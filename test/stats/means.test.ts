import { describe, expect, it } from 'vitest';
import {
  meanDifference,
  studentTQuantile,
  welchInterval,
  welchTTest,
  type MeanSample,
} from '../../src/stats/index.js';

/** A MeanSample with the given size, mean and sample standard deviation. */
const summary = (n: number, mean: number, sd: number): MeanSample => ({
  n,
  sum: n * mean,
  sumSquares: (n - 1) * sd * sd + n * mean * mean,
});

const fromValues = (values: readonly number[]): MeanSample => ({
  n: values.length,
  sum: values.reduce((a, b) => a + b, 0),
  sumSquares: values.reduce((a, b) => a + b * b, 0),
});

describe('welchTTest', () => {
  // NIST/SEMATECH e-Handbook of Statistical Methods §1.3.5.3, "Two-sample t-test for equal
  // means", AUTO83B.DAT: US cars (n 249, mean 20.14458, sd 6.41470) against Japanese cars (n 79,
  // mean 30.48101, sd 6.10771); unequal variances: T = −12.94627 (US − Japan), ν = 136.8750.
  // The two-sided p, 1.571e-25, is the one Boost.Math's example prints for the same data.
  it('reproduces the NIST AUTO83B example: t = 12.94627, df = 136.8750, p = 1.571e-25', () => {
    const us = summary(249, 20.14458, 6.4147);
    const japan = summary(79, 30.48101, 6.10771);
    const result = welchTTest(us, japan);
    expect(result.t).toBeCloseTo(12.94627, 4);
    expect(result.df).toBeCloseTo(136.875, 3);
    expect(result.difference).toBeCloseTo(10.33643, 5);
    expect(result.se).toBeCloseTo(0.79841, 5);
    expect(result.p / 1.571e-25).toBeCloseTo(1, 3);
  });

  // The same computed from raw values, to check the sums-of-squares route: Welch's test on two
  // small samples against scipy.stats.ttest_ind(a, b, equal_var=False) (SciPy 1.17.1):
  // t = 2.8877485, df = 8.0028536, p = 0.0202615.
  it('agrees with SciPy on raw values', () => {
    const a = [19.1, 21.4, 18.2, 20.5, 22.0, 19.9, 20.3];
    const b = [23.5, 21.9, 26.0, 22.2, 24.8, 20.1];
    const result = welchTTest(fromValues(a), fromValues(b));
    expect(result.t).toBeCloseTo(2.8877485, 6);
    expect(result.df).toBeCloseTo(8.0028536, 6);
    expect(result.p).toBeCloseTo(0.0202615, 6);
  });

  it('is antisymmetric in the variants', () => {
    const a = summary(40, 10, 3);
    const b = summary(55, 11.2, 5);
    const ab = welchTTest(a, b);
    const ba = welchTTest(b, a);
    expect(ba.t).toBeCloseTo(-ab.t, 12);
    expect(ba.df).toBeCloseTo(ab.df, 12);
    expect(ba.p).toBeCloseTo(ab.p, 12);
  });

  it('gives NaN with fewer than two values in a variant', () => {
    const result = welchTTest(summary(1, 5, 0), summary(10, 6, 1));
    expect(result.t).toBeNaN();
    expect(result.p).toBeNaN();
  });

  it('handles two constant samples: p = 0 if they differ, 1 if not', () => {
    expect(welchTTest(fromValues([2, 2, 2]), fromValues([3, 3])).p).toBe(0);
    expect(welchTTest(fromValues([2, 2, 2]), fromValues([2, 2])).p).toBe(1);
  });

  it('rejects malformed sums', () => {
    expect(() => welchTTest({ n: -1, sum: 0, sumSquares: 0 }, summary(3, 1, 1))).toThrow(
      RangeError,
    );
    expect(() => welchTTest({ n: 3, sum: Number.NaN, sumSquares: 1 }, summary(3, 1, 1))).toThrow(
      RangeError,
    );
  });
});

describe('welchInterval', () => {
  it('is difference ± t_{1−α/2, df}·se', () => {
    const us = summary(249, 20.14458, 6.4147);
    const japan = summary(79, 30.48101, 6.10771);
    const interval = welchInterval(us, japan, 0.05);
    // t_{0.975, 136.875} = 1.9774473 (SciPy), se = 0.7984100
    expect(interval.estimate).toBeCloseTo(10.33643, 5);
    expect(interval.low).toBeCloseTo(10.33643 - 1.9774473 * 0.79841, 4);
    expect(interval.high).toBeCloseTo(10.33643 + 1.9774473 * 0.79841, 4);
    expect(studentTQuantile(0.975, 136.875)).toBeCloseTo(1.9774473, 6);
  });

  it('excludes 0 exactly when the test rejects at alpha', () => {
    for (const shift of [0, 0.5, 1, 1.5, 2, 3]) {
      const a = summary(30, 10, 4);
      const b = summary(25, 10 + shift, 3);
      const { p } = welchTTest(a, b);
      const { low, high } = welchInterval(a, b, 0.05);
      expect(low > 0 || high < 0).toBe(p < 0.05);
    }
  });
});

describe('meanDifference', () => {
  it('is x̄_t − x̄_c with V = s_t²/n_t + s_c²/n_c', () => {
    const estimate = meanDifference(summary(100, 5, 2), summary(50, 6, 3))!;
    expect(estimate.estimate).toBeCloseTo(1, 10);
    expect(estimate.variance).toBeCloseTo(4 / 100 + 9 / 50, 10);
    expect(meanDifference(summary(1, 5, 0), summary(50, 6, 3))).toBeUndefined();
  });
});
