import { describe, expect, it } from 'vitest';
import {
  daysNeeded,
  exactSampleSizeForProportions,
  powerForMeans,
  powerForProportions,
  sampleSizeForMeans,
  sampleSizeForProportions,
} from '../../src/stats/index.js';

const plan = (baseline: number, p2: number) => ({ baseline, relativeLift: p2 / baseline - 1 });

describe('sampleSizeForProportions', () => {
  // R, stats::power.prop.test, the examples of its help page (same formula: pooled p̄ under H0,
  // no continuity correction):
  //   power.prop.test(p1 = .50, p2 = .75, power = .90)                  ## =>  n = 76.7
  //   power.prop.test(p1 = .5, p2 = 0.501, sig.level = .001, power = .90) ## =>  n = 10451937
  //   power.prop.test(p1 = .90, p2 = 1.0, power = .8)                   ## =>  n = 73.37
  it.each([
    [0.5, 0.75, 0.05, 0.9, 76.7, 1],
    [0.9, 1.0, 0.05, 0.8, 73.37, 2],
    [0.5, 0.501, 0.001, 0.9, 10_451_937, -7],
  ])(
    'p1 %d, p2 %d, α %d, power %d: n = %d as R’s power.prop.test',
    (p1, p2, alpha, power, n, digits) => {
      const exact = exactSampleSizeForProportions({ ...plan(p1, p2), alpha, power });
      if (digits >= 0) expect(exact).toBeCloseTo(n, digits);
      else expect(Math.abs(exact - n)).toBeLessThanOrEqual(1);
      expect(sampleSizeForProportions({ ...plan(p1, p2), alpha, power })).toBe(Math.ceil(exact));
    },
  );

  it('answers the issue’s question: a 5 % lift on a 3 % baseline at 80 % power takes 207,938 per variant', () => {
    // by hand: p₂ = 0.0315, p̄ = 0.03075, z_a = 1.959964, z_b = 0.841621:
    // (1.959964·sqrt(2·0.03075·0.96925) + 0.841621·sqrt(0.03·0.97 + 0.0315·0.9685))² / 0.0015²
    // = 207,937.88
    const n = sampleSizeForProportions({
      baseline: 0.03,
      relativeLift: 0.05,
      alpha: 0.05,
      power: 0.8,
    });
    expect(n).toBe(207_938);
  });

  it('needs fewer users one-sided, more for more power or a smaller alpha, and handles a drop', () => {
    const base = { baseline: 0.1, relativeLift: 0.1, alpha: 0.05, power: 0.8 };
    const n = sampleSizeForProportions(base);
    expect(sampleSizeForProportions({ ...base, twoSided: false })).toBeLessThan(n);
    expect(sampleSizeForProportions({ ...base, power: 0.9 })).toBeGreaterThan(n);
    expect(sampleSizeForProportions({ ...base, alpha: 0.01 })).toBeGreaterThan(n);
    expect(sampleSizeForProportions({ ...base, relativeLift: -0.1 })).toBeGreaterThan(0);
  });

  it('gives at least the promised power at its n, and less one user short', () => {
    for (const [baseline, relativeLift] of [
      [0.03, 0.05],
      [0.1, 0.1],
      [0.5, -0.2],
    ] as const) {
      const p = { baseline, relativeLift, alpha: 0.05, power: 0.8 };
      const n = sampleSizeForProportions(p);
      expect(powerForProportions({ ...p, n })).toBeGreaterThanOrEqual(0.8);
      expect(powerForProportions({ ...p, n: n - 1 })).toBeLessThan(0.8);
    }
  });

  it.each([
    [{ baseline: 0, relativeLift: 0.1 }],
    [{ baseline: 1, relativeLift: 0.1 }],
    [{ baseline: 0.5, relativeLift: 0 }],
    [{ baseline: 0.6, relativeLift: 1 }],
    [{ baseline: 0.5, relativeLift: Number.NaN }],
  ])('rejects %o', (bad) => {
    expect(() => sampleSizeForProportions({ ...bad, alpha: 0.05, power: 0.8 })).toThrow(RangeError);
  });

  it('rejects a power or alpha outside (0, 1)', () => {
    expect(() =>
      sampleSizeForProportions({ baseline: 0.1, relativeLift: 0.1, alpha: 0.05, power: 1 }),
    ).toThrow(RangeError);
    expect(() =>
      sampleSizeForProportions({ baseline: 0.1, relativeLift: 0.1, alpha: 0, power: 0.8 }),
    ).toThrow(RangeError);
  });
});

describe('powerForProportions', () => {
  // R: power.prop.test(n = 50, p1 = .50, p2 = .75) ## => power = 0.740
  it('is 0.740 for n = 50, p1 = .5, p2 = .75 as R’s power.prop.test', () => {
    expect(powerForProportions({ ...plan(0.5, 0.75), n: 50, alpha: 0.05 })).toBeCloseTo(0.74, 3);
  });
});

describe('sampleSizeForMeans and powerForMeans', () => {
  // R, stats::power.t.test, the examples of its help page (noncentral t, sd = 1):
  //   power.t.test(n = 20, delta = 1)                                  ## power = 0.8689528
  //   power.t.test(power = .90, delta = 1)                             ## n = 22.02110
  //   power.t.test(power = .90, delta = 1, alternative = "one.sided")  ## n = 17.84713
  it('matches R’s power.t.test', () => {
    expect(powerForMeans({ sd: 1, difference: 1, n: 20, alpha: 0.05 })).toBeCloseTo(0.8689528, 6);
    expect(powerForMeans({ sd: 1, difference: 1, n: 22.0211, alpha: 0.05 })).toBeCloseTo(0.9, 6);
    expect(
      powerForMeans({ sd: 1, difference: 1, n: 17.84713, alpha: 0.05, twoSided: false }),
    ).toBeCloseTo(0.9, 6);
    expect(sampleSizeForMeans({ sd: 1, difference: 1, alpha: 0.05, power: 0.9 })).toBe(23);
    expect(
      sampleSizeForMeans({ sd: 1, difference: 1, alpha: 0.05, power: 0.9, twoSided: false }),
    ).toBe(18);
  });

  // Cohen, "Statistical Power Analysis for the Behavioral Sciences" (2nd ed., 1988), Table 2.4.1:
  // n per group for a two-tailed test at α = .05 and power .80 is 64 for d = .5 and 26 for d = .8.
  it.each([
    [0.5, 64],
    [0.8, 26],
  ])('needs %d per group for Cohen’s d = %d at 80 %% power (Cohen 1988, Table 2.4.1)', (d, n) => {
    expect(sampleSizeForMeans({ sd: 10, difference: 10 * d, alpha: 0.05, power: 0.8 })).toBe(n);
  });

  it('is the smallest n with the power, for small and large effects', () => {
    for (const [sd, difference] of [
      [1, 2],
      [30, 1],
      [5, -0.4],
    ] as const) {
      const p = { sd, difference, alpha: 0.05, power: 0.8 };
      const n = sampleSizeForMeans(p);
      expect(powerForMeans({ ...p, n })).toBeGreaterThanOrEqual(0.8);
      if (n > 2) expect(powerForMeans({ ...p, n: n - 1 })).toBeLessThan(0.8);
    }
  });

  it('plans a tiny difference past 2^53 users from the normal approximation, without looping forever', () => {
    // the bisection over whole numbers cannot split an interval where doubles are 2 or more apart
    const z = 1.959963984540054 + 0.8416212335729143;
    for (const [sd, difference] of [
      [40, 1e-9],
      [1, 1e-7],
    ] as const) {
      const n = sampleSizeForMeans({ sd, difference, alpha: 0.05, power: 0.8 });
      expect(n / (2 * (z * (sd / difference)) ** 2)).toBeCloseTo(1, 9);
    }
  });

  it('says Infinity for a difference no experiment can detect', () => {
    expect(sampleSizeForMeans({ sd: 1, difference: 1e-200, alpha: 0.05, power: 0.8 })).toBe(
      Infinity,
    );
  });

  it('rejects a zero difference or a non-positive sd', () => {
    expect(() => sampleSizeForMeans({ sd: 1, difference: 0, alpha: 0.05, power: 0.8 })).toThrow(
      RangeError,
    );
    expect(() => sampleSizeForMeans({ sd: 0, difference: 1, alpha: 0.05, power: 0.8 })).toThrow(
      RangeError,
    );
  });
});

describe('daysNeeded', () => {
  it('is the users all variants need over the daily traffic, rounded up', () => {
    expect(daysNeeded(207_938, 2, 30_000)).toBe(14);
    expect(daysNeeded(1_000, 3, 3_000)).toBe(1);
    expect(daysNeeded(1_000, 3, 2_999)).toBe(2);
    expect(daysNeeded(0, 2, 100)).toBe(0);
    expect(daysNeeded(10, 2, 0)).toBe(Infinity);
  });

  it('rejects nonsense', () => {
    expect(() => daysNeeded(-1, 2, 100)).toThrow(RangeError);
    expect(() => daysNeeded(10, 1.5, 100)).toThrow(RangeError);
    expect(() => daysNeeded(10, 2, -5)).toThrow(RangeError);
  });
});
