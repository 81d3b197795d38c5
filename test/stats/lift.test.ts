import { describe, expect, it } from 'vitest';
import { compareVariants } from '../../src/experiment/compare.js';
import {
  absoluteLift,
  alwaysValidPValue,
  confidenceSequence,
  meanRelativeLift,
  relativeLift,
  relativeLiftEstimate,
  simulateLiftCoverage,
  type MeanSample,
} from '../../src/stats/index.js';

describe('absoluteLift', () => {
  // Agresti, "An Introduction to Categorical Data Analysis" (2nd ed., 2007), §2.2.3: Physicians'
  // Health Study, 189/11,034 on placebo and 104/11,037 on aspirin; the difference 0.0077 has
  // SE 0.0015 and the 95 % interval (0.005, 0.011). Here the treatment is aspirin, so the signs flip.
  it('reproduces Agresti’s Physicians’ Health Study interval, (−0.011, −0.005)', () => {
    const lift = absoluteLift(
      { users: 11_034, conversions: 189 },
      { users: 11_037, conversions: 104 },
      0.05,
    );
    expect(lift.estimate).toBeCloseTo(-0.0077, 4);
    expect(lift.se).toBeCloseTo(0.0015, 4);
    expect(lift.low).toBeCloseTo(-0.011, 3);
    expect(lift.high).toBeCloseTo(-0.005, 3);
  });

  it('is NaN without users', () => {
    expect(
      absoluteLift({ users: 0, conversions: 0 }, { users: 5, conversions: 1 }, 0.05).low,
    ).toBeNaN();
  });
});

describe('relativeLift (delta method)', () => {
  // By hand from the documented formula, for the same study: R̂ = (104/11037)/(189/11034) =
  // 0.5501150, Var R̂ = (V_t + R̂²V_c)/p̂_c² with V = p̂(1 − p̂)/n → SE 0.0667549;
  // −0.4498850 ± 1.959964 × 0.0667549 = (−0.5807223, −0.3190477).
  it('follows Var(R̂) = R̂²(V_t/p̂_t² + V_c/p̂_c²) on the Physicians’ Health Study', () => {
    const control = { users: 11_034, conversions: 189 };
    const treatment = { users: 11_037, conversions: 104 };
    const lift = relativeLift(control, treatment, 0.05);
    expect(lift.estimate).toBeCloseTo(-0.449885, 6);
    expect(lift.se).toBeCloseTo(0.0667549, 7);
    expect(lift.low).toBeCloseTo(-0.5807223, 6);
    expect(lift.high).toBeCloseTo(-0.3190477, 6);
    // the textbook form of the same variance
    const pc = 189 / 11_034;
    const pt = 104 / 11_037;
    const r = pt / pc;
    const textbook =
      r * r * ((pt * (1 - pt)) / 11_037 / pt ** 2 + (pc * (1 - pc)) / 11_034 / pc ** 2);
    expect(lift.se).toBeCloseTo(Math.sqrt(textbook), 12);
  });

  it('is NaN when the control has no conversions, and finite when the treatment has none', () => {
    expect(
      relativeLift({ users: 100, conversions: 0 }, { users: 100, conversions: 3 }, 0.05).estimate,
    ).toBeNaN();
    const none = relativeLift({ users: 100, conversions: 5 }, { users: 100, conversions: 0 }, 0.05);
    expect(none.estimate).toBe(-1);
    expect(Number.isFinite(none.se)).toBe(true);
  });

  // 2,000 simulations: the Monte Carlo standard error of a 95 % coverage is 0.49 points, so
  // 93–97 % is ±4 standard errors around the nominal level.
  it.each([
    [0.1, 0.12, 5_000],
    [0.03, 0.0345, 20_000],
    [0.2, 0.2, 2_000],
    [0.05, 0.04, 8_000],
  ])(
    'covers the true relative lift 93–97 %% of the time (95 %% interval; p_c %d, p_t %d, n %d)',
    (pc, pt, n) => {
      const { relative } = simulateLiftCoverage({
        controlRate: pc,
        treatmentRate: pt,
        users: n,
        alpha: 0.05,
        simulations: 2_000,
        seed: 2026,
      });
      expect(relative.share).toBeGreaterThanOrEqual(0.93);
      expect(relative.share).toBeLessThanOrEqual(0.97);
    },
  );

  it('and the absolute interval covers p_t − p_c 93–97 % of the time', () => {
    const { absolute } = simulateLiftCoverage({
      controlRate: 0.1,
      treatmentRate: 0.12,
      users: 5_000,
      alpha: 0.05,
      simulations: 2_000,
      seed: 2026,
    });
    expect(absolute.share).toBeGreaterThanOrEqual(0.93);
    expect(absolute.share).toBeLessThanOrEqual(0.97);
  });
});

describe('relativeLiftEstimate', () => {
  it('is the relative lift with the delta-method variance of rates smoothed as (x + ½)/(n + 1)', () => {
    const control = { users: 11_034, conversions: 189 };
    const treatment = { users: 11_037, conversions: 104 };
    const smoothed = ({ users, conversions }: typeof control) => {
      const p = (conversions + 0.5) / (users + 1);
      return (p * (1 - p)) / users;
    };
    const [pc, pt] = [189 / 11_034, 104 / 11_037];
    const estimate = relativeLiftEstimate(control, treatment);
    expect(estimate?.estimate).toBeCloseTo(relativeLift(control, treatment, 0.05).estimate, 15);
    expect(estimate?.variance).toBeCloseTo(
      smoothed(treatment) / pc ** 2 + (pt ** 2 * smoothed(control)) / pc ** 4,
      15,
    );
    // no conversions in the treatment yet: a variance all the same
    expect(relativeLiftEstimate(control, { users: 50, conversions: 0 })?.variance).toBeGreaterThan(
      0,
    );
    expect(relativeLiftEstimate({ users: 10, conversions: 0 }, treatment)).toBeUndefined();
  });

  it("is the estimate of the analysis' anytime-valid test, so the simulations test what runs", () => {
    for (const [nc, xc, nt, xt] of [
      [40, 3, 38, 0],
      [400, 31, 390, 45],
      [20_000, 600, 20_100, 640],
    ] as const) {
      const raw = compareVariants(
        'conversion',
        { variant: 'a', users: nc, conversions: xc },
        { variant: 'b', users: nt, conversions: xt },
        0.05,
        0.05,
      );
      const estimate = relativeLiftEstimate(
        { users: nc, conversions: xc },
        { users: nt, conversions: xt },
      );
      expect(raw.sequential?.pValue).toBeCloseTo(alwaysValidPValue(estimate!, 0.05), 12);
      const cs = confidenceSequence(estimate!, 0.05, 0.05);
      expect(raw.sequential?.relative.low).toBeCloseTo(cs.lower, 12);
    }
  });
});

describe('meanRelativeLift', () => {
  const summary = (n: number, mean: number, sd: number): MeanSample => ({
    n,
    sum: n * mean,
    sumSquares: (n - 1) * sd * sd + n * mean * mean,
  });

  it('applies the same delta method to means, each with variance s²/n', () => {
    const lift = meanRelativeLift(summary(400, 20, 30), summary(500, 23, 35), 0.05);
    const r = 23 / 20;
    const variance = (35 ** 2 / 500 + r * r * (30 ** 2 / 400)) / 20 ** 2;
    expect(lift.estimate).toBeCloseTo(0.15, 10);
    expect(lift.se).toBeCloseTo(Math.sqrt(variance), 10);
    expect(lift.low).toBeCloseTo(0.15 - 1.959964 * Math.sqrt(variance), 5);
  });

  it('is NaN with a zero control mean or fewer than two users', () => {
    expect(meanRelativeLift(summary(10, 0, 1), summary(10, 1, 1), 0.05).estimate).toBeNaN();
    expect(meanRelativeLift(summary(1, 3, 0), summary(10, 1, 1), 0.05).se).toBeNaN();
  });
});
