import { describe, expect, it } from 'vitest';
import {
  binomial,
  confidenceSequence,
  differenceOf,
  rateOf,
  seededRandom,
  stratifiedDifference,
  type Counts,
} from '../../src/stats/index.js';

const alpha = 0.05;
const add = (a: Counts, b: Counts): Counts => ({ bad: a.bad + b.bad, total: a.total + b.total });

/**
 * Runs `sequences` A/B sequences of `looks` looks, each look adding `perLook` events per cohort at
 * the given rates; returns the share of sequences in which `rejects` fired at some look.
 */
function rejectionRate(
  rates: { treatment: number; control: number },
  rejects: (treatment: Counts, control: Counts) => boolean,
  { sequences = 1000, looks = 100, perLook = 200, seed = 7 } = {},
): number {
  const random = seededRandom(seed);
  let rejected = 0;
  for (let s = 0; s < sequences; s++) {
    let treatment: Counts = { bad: 0, total: 0 };
    let control: Counts = { bad: 0, total: 0 };
    for (let look = 0; look < looks; look++) {
      treatment = add(treatment, {
        bad: binomial(perLook, rates.treatment, random),
        total: perLook,
      });
      control = add(control, { bad: binomial(perLook, rates.control, random), total: perLook });
      if (rejects(treatment, control)) {
        rejected++;
        break;
      }
    }
  }
  return rejected / sequences;
}

const sequenceExcludesZero = (tau: number) => (treatment: Counts, control: Counts) => {
  const interval = confidenceSequence(differenceOf(treatment, control)!, alpha, tau);
  return interval.lower > 0 || interval.upper < 0;
};

/** The fixed-sample z-test, checked at every look: what the sequential interval replaces. */
const zTestAtEveryLook = (treatment: Counts, control: Counts) => {
  const { estimate, variance } = differenceOf(treatment, control)!;
  return Math.abs(estimate / Math.sqrt(variance)) > 1.959964;
};

describe('the anytime-valid confidence sequence', () => {
  it.each([
    [0.005, 0.002],
    [0.01, 0.005],
    [0.2, 0.02],
  ])(
    'excludes the truth in at most α of A/A sequences at rate %d, τ %d, looking 100 times',
    (rate, tau) => {
      const falseAlarms = rejectionRate(
        { treatment: rate, control: rate },
        sequenceExcludesZero(tau),
      );
      expect(falseAlarms).toBeLessThanOrEqual(alpha);
    },
  );

  it('is needed: a z-test checked at every look rejects A/A far more often than α', () => {
    const falseAlarms = rejectionRate({ treatment: 0.01, control: 0.01 }, zTestAtEveryLook);
    expect(falseAlarms).toBeGreaterThan(3 * alpha);
  });

  it('detects a doubled error rate (0.5 % → 1 %) in most sequences', () => {
    const detected = rejectionRate(
      { treatment: 0.01, control: 0.005 },
      sequenceExcludesZero(0.005),
      {
        sequences: 300,
        looks: 100,
        perLook: 500,
      },
    );
    expect(detected).toBeGreaterThan(0.9);
  });

  it('never divides by zero: zero failures still give a finite, non-empty interval', () => {
    const none = { bad: 0, total: 1000 };
    const interval = confidenceSequence(differenceOf(none, none)!, alpha, 0.002);
    expect(interval.estimate).toBe(0);
    expect(interval.lower).toBeLessThan(0);
    expect(interval.upper).toBeGreaterThan(0);
    expect(Number.isFinite(interval.upper)).toBe(true);
    const rate = confidenceSequence(rateOf(none)!, alpha, 0.01);
    expect(rate.upper).toBeGreaterThan(0);
  });

  it('has no estimate without events in both cohorts', () => {
    expect(differenceOf({ bad: 0, total: 0 }, { bad: 0, total: 10 })).toBeUndefined();
    expect(rateOf({ bad: 0, total: 0 })).toBeUndefined();
    expect(stratifiedDifference([])).toBeUndefined();
  });

  it('narrows as evidence grows', () => {
    const widths = [100, 1000, 10_000, 100_000].map((n) => {
      const i = confidenceSequence(
        differenceOf({ bad: n / 100, total: n }, { bad: n / 100, total: n })!,
        alpha,
        0.005,
      );
      return i.upper - i.lower;
    });
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeLessThan(widths[i - 1]!);
  });

  it('refuses a level or scale that means nothing', () => {
    const estimate = { estimate: 0, variance: 1e-6 };
    expect(() => confidenceSequence(estimate, 0, 0.01)).toThrow(/alpha/);
    expect(() => confidenceSequence(estimate, 0.05, 0)).toThrow(/tau/);
  });
});

describe('the stratified difference', () => {
  it('is not fooled by a baseline that moved between steps with different splits', () => {
    // Step 1 (1 % treatment) ran while errors were rare; step 2 (50 %) during an outage that hit
    // both cohorts alike. In each step the treatment is exactly as good as the control.
    const strata = [
      { treatment: { bad: 1, total: 1000 }, control: { bad: 99, total: 99_000 } },
      { treatment: { bad: 5000, total: 50_000 }, control: { bad: 5000, total: 50_000 } },
    ];
    const pooled = differenceOf(
      strata.map((s) => s.treatment).reduce(add),
      strata.map((s) => s.control).reduce(add),
    )!;
    expect(pooled.estimate).toBeGreaterThan(0.03); // Simpson: the treatment looks much worse
    expect(stratifiedDifference(strata)!.estimate).toBeCloseTo(0, 12);
  });

  it('is the plain difference for one stratum', () => {
    const t = { bad: 30, total: 1000 };
    const c = { bad: 20, total: 2000 };
    expect(stratifiedDifference([{ treatment: t, control: c }])).toEqual(differenceOf(t, c));
  });
});

describe('the binomial sampler', () => {
  it('has the binomial mean and variance', () => {
    const random = seededRandom(1);
    const draws = Array.from({ length: 20_000 }, () => binomial(500, 0.01, random));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    expect(mean).toBeCloseTo(5, 1);
    expect(variance).toBeCloseTo(500 * 0.01 * 0.99, 0);
    expect(binomial(10, 0, random)).toBe(0);
    expect(binomial(10, 1, random)).toBe(10);
  });
});
