import { describe, expect, it } from 'vitest';
import {
  simulateMeansPower,
  simulatePeeking,
  simulateProportionsPower,
  type SimulatedShare,
} from '../../src/stats/index.js';

const alpha = 0.05;
/** Three Monte Carlo standard errors of a share near `p` from `n` simulations. */
const threeSe = (p: number, n: number) => 3 * Math.sqrt((p * (1 - p)) / n);

describe('A/A experiments read every day for 28 days', () => {
  // 1,000 seeded experiments at a 3 % baseline, 2,000 new users per variant a day. Monte Carlo
  // tolerance: a share is judged by its Wilson 95 % interval (or ±3 standard errors), so the
  // sequential tests pass only if even the upper end of that interval is below α.
  const result = simulatePeeking({
    baseline: 0.03,
    usersPerDay: 2_000,
    days: 28,
    simulations: 1_000,
    alpha,
    seed: 2026,
  });

  it('the fixed-horizon z-test is calibrated at its one planned look', () => {
    expect(Math.abs(result.fixedAtEnd.share - alpha)).toBeLessThanOrEqual(threeSe(alpha, 1_000));
  });

  it('the same z-test declares an A/A winner far more often than α when read daily', () => {
    expect(result.fixedAtAnyLook.low).toBeGreaterThan(3 * alpha);
  });

  it.each([
    ['difference of rates', (r: typeof result) => r.sequentialDifference],
    ['relative lift', (r: typeof result) => r.sequentialRelative],
  ])('the always-valid p-value on the %s stays ≤ α at every look', (_, pick) => {
    const share: SimulatedShare = pick(result);
    expect(share.share).toBeLessThanOrEqual(alpha);
    expect(share.high).toBeLessThanOrEqual(alpha);
  });

  it('is deterministic for a seed', () => {
    const again = simulatePeeking({ baseline: 0.03, usersPerDay: 2_000, simulations: 50, seed: 9 });
    expect(
      simulatePeeking({ baseline: 0.03, usersPerDay: 2_000, simulations: 50, seed: 9 }),
    ).toEqual(again);
  });
});

describe('A/B at the planner’s sample size', () => {
  // The promise is the power asked of the planner; the simulated power must land within ±3
  // points of it (the Monte Carlo standard error is 0.63 points at 4,000 simulations and 0.9 at
  // 2,000 for 80 % power).
  it.each([
    // the example: 5 % relative lift on a 3 % baseline, 80 % power (207,938 per variant)
    [0.03, 0.05, 0.8, true, 4_000],
    [0.1, 0.1, 0.9, true, 2_000],
    [0.2, -0.1, 0.8, true, 2_000],
    [0.05, 0.2, 0.8, false, 2_000],
  ])(
    'baseline %d, lift %d, power %d (two-sided %s): empirical power within ±3 points',
    (baseline, relativeLift, power, twoSided, simulations) => {
      const result = simulateProportionsPower({
        baseline,
        relativeLift,
        alpha,
        power,
        twoSided,
        simulations,
        seed: 11,
      });
      expect(result.promised).toBeGreaterThanOrEqual(power);
      expect(Math.abs(result.empirical.share - power)).toBeLessThanOrEqual(0.03);
    },
  );

  it('Welch’s test on a normal metric: d = 0.2 at 80 % power within ±3 points', () => {
    const result = simulateMeansPower({
      sd: 10,
      difference: 2,
      alpha,
      power: 0.8,
      simulations: 2_000,
      seed: 12,
    });
    expect(result.n).toBe(394);
    expect(Math.abs(result.empirical.share - 0.8)).toBeLessThanOrEqual(0.03);
  });
});
