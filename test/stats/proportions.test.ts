import { describe, expect, it } from 'vitest';
import {
  chiSquaredTail,
  differenceOf,
  proportionDifference,
  proportionInterval,
  twoProportionZTest,
} from '../../src/stats/index.js';

describe('twoProportionZTest', () => {
  // statsmodels documentation, statsmodels.stats.proportion.proportions_ztest, Examples:
  // count = [5, 12], nobs = [83, 99] → p-value 0.159 (pooled variance, two-sided).
  it('matches the statsmodels example: 5/83 against 12/99 gives p = 0.159', () => {
    const result = twoProportionZTest(
      { users: 83, conversions: 5 },
      { users: 99, conversions: 12 },
    );
    expect(result.p).toBeCloseTo(0.159, 3);
    // by hand: p̂ = 17/182, SE = sqrt(p̂(1 − p̂)(1/83 + 1/99)) = 0.0433086, z = 0.0609711 / SE
    expect(result.pooledSe).toBeCloseTo(0.0433086, 7);
    expect(result.z).toBeCloseTo(1.40783, 5);
  });

  // Agresti, "An Introduction to Categorical Data Analysis" (2nd ed., 2007), §2.2, Table 2.3: the
  // Physicians' Health Study, myocardial infarction in 189 of 11,034 on placebo and 104 of 11,037
  // on aspirin; the difference 0.0077 is far beyond chance (z ≈ 5.0, X² = 25.0).
  it('finds the aspirin effect of the Physicians’ Health Study (z ≈ −5.0)', () => {
    const result = twoProportionZTest(
      { users: 11_034, conversions: 189 },
      { users: 11_037, conversions: 104 },
    );
    expect(result.z).toBeCloseTo(-5.0, 1);
    expect(result.p).toBeLessThan(1e-6);
  });

  it('is Pearson’s χ² test of the 2×2 table: z² = X², the same p from the χ² tail', () => {
    const tables = [
      [83, 5, 99, 12],
      [11_034, 189, 11_037, 104],
      [1_000, 30, 1_200, 47],
      [50_000, 1_500, 50_000, 1_620],
    ] as const;
    for (const [nc, xc, nt, xt] of tables) {
      const { z, p } = twoProportionZTest(
        { users: nc, conversions: xc },
        { users: nt, conversions: xt },
      );
      const n = nc + nt;
      const x = xc + xt;
      let chi2 = 0;
      for (const [observed, expected] of [
        [xc, (nc * x) / n],
        [nc - xc, (nc * (n - x)) / n],
        [xt, (nt * x) / n],
        [nt - xt, (nt * (n - x)) / n],
      ] as const) {
        chi2 += (observed - expected) ** 2 / expected;
      }
      expect(z * z).toBeCloseTo(chi2, 9);
      expect(p).toBeCloseTo(chiSquaredTail(chi2, 1), 9);
    }
  });

  it('is symmetric: swapping the variants flips z and keeps p', () => {
    const a = { users: 4_000, conversions: 130 };
    const b = { users: 3_800, conversions: 150 };
    const ab = twoProportionZTest(a, b);
    const ba = twoProportionZTest(b, a);
    expect(ba.z).toBeCloseTo(-ab.z, 12);
    expect(ba.p).toBeCloseTo(ab.p, 12);
  });

  it('gives z = 0 and p = 1 when nobody converted, NaN without users', () => {
    expect(
      twoProportionZTest({ users: 10, conversions: 0 }, { users: 12, conversions: 0 }),
    ).toEqual({
      z: 0,
      p: 1,
      pooledSe: 0,
    });
    expect(
      twoProportionZTest({ users: 0, conversions: 0 }, { users: 12, conversions: 3 }).p,
    ).toBeNaN();
  });

  it.each([
    [{ users: -1, conversions: 0 }],
    [{ users: 10, conversions: 11 }],
    [{ users: Number.NaN, conversions: 0 }],
    [{ users: 10, conversions: -2 }],
  ])('rejects malformed counts %o', (bad) => {
    expect(() => twoProportionZTest(bad, { users: 10, conversions: 1 })).toThrow(RangeError);
    expect(() => twoProportionZTest({ users: 10, conversions: 1 }, bad)).toThrow(RangeError);
  });
});

describe('proportionInterval (Wilson)', () => {
  // Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
  // methods", Statistics in Medicine 17 (1998) 857–872, Table II, method 3 (score, no continuity
  // correction), 95 %.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%d of %d gives %d to %d as in Newcombe (1998)', (conversions, users, low, high) => {
    const interval = proportionInterval({ users, conversions }, 0.05);
    expect(interval.estimate).toBe(conversions / users);
    expect(interval.low).toBeCloseTo(low, 4);
    expect(interval.high).toBeCloseTo(high, 4);
  });

  it('stays inside [0, 1], reaching 0 and 1 exactly at the ends', () => {
    expect(proportionInterval({ users: 20, conversions: 0 }, 0.05).low).toBe(0);
    expect(proportionInterval({ users: 20, conversions: 20 }, 0.05).high).toBe(1);
    for (let x = 0; x <= 30; x++) {
      const { low, high, estimate } = proportionInterval({ users: 30, conversions: x }, 0.01);
      expect(low).toBeGreaterThanOrEqual(0);
      expect(high).toBeLessThanOrEqual(1);
      expect(low).toBeLessThanOrEqual(estimate);
      expect(high).toBeGreaterThanOrEqual(estimate);
    }
  });

  it('narrows as alpha grows', () => {
    const wide = proportionInterval({ users: 500, conversions: 40 }, 0.01);
    const narrow = proportionInterval({ users: 500, conversions: 40 }, 0.1);
    expect(narrow.low).toBeGreaterThan(wide.low);
    expect(narrow.high).toBeLessThan(wide.high);
  });

  it('is [0, 1] around NaN without users, and rejects a bad alpha', () => {
    const empty = proportionInterval({ users: 0, conversions: 0 }, 0.05);
    expect(empty.estimate).toBeNaN();
    expect([empty.low, empty.high]).toEqual([0, 1]);
    for (const alpha of [0, 1, -0.1, Number.NaN])
      expect(() => proportionInterval({ users: 10, conversions: 1 }, alpha)).toThrow(RangeError);
  });
});

describe('proportionDifference', () => {
  it('is treatment − control with the smoothed variance of differenceOf', () => {
    const control = { users: 1_000, conversions: 30 };
    const treatment = { users: 1_100, conversions: 45 };
    expect(proportionDifference(control, treatment)).toEqual(
      differenceOf({ bad: 45, total: 1_100 }, { bad: 30, total: 1_000 }),
    );
    expect(proportionDifference(control, treatment)!.estimate).toBeCloseTo(45 / 1_100 - 0.03, 12);
  });

  it('has a positive variance with no conversions yet, and is undefined without users', () => {
    expect(
      proportionDifference({ users: 50, conversions: 0 }, { users: 50, conversions: 0 })!.variance,
    ).toBeGreaterThan(0);
    expect(proportionDifference({ users: 0, conversions: 0 }, { users: 5, conversions: 1 })).toBe(
      undefined,
    );
  });
});
