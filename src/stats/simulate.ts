/**
 * Seeded Monte Carlo checks of the experiment statistics, shared by test/stats and
 * bench/experiment-sim.ts (the tests run them small, the bench at full size):
 *
 * - A/A peeking: two identical variants read every day; the share of experiments in which the
 *   fixed-horizon z-test says "significant" at some look, against the always-valid tests'.
 * - Power: A/B at the planner's n, the share of experiments the fixed test detects, against the
 *   power the planner promised.
 * - Coverage of the lift intervals.
 *
 * Each figure comes with its Wilson 95 % interval: the Monte Carlo error.
 */
import { alwaysValidPValue } from './always-valid.js';
import { absoluteLift, relativeLift, relativeLiftEstimate } from './lift.js';
import { welchTTest } from './means.js';
import {
  powerForMeans,
  powerForProportions,
  sampleSizeForMeans,
  sampleSizeForProportions,
} from './power.js';
import { proportionDifference, proportionInterval, twoProportionZTest } from './proportions.js';
import { binomial, seededRandom } from './random.js';

/** A simulated share with its Monte Carlo (Wilson 95 %) interval. */
export interface SimulatedShare {
  readonly share: number;
  readonly low: number;
  readonly high: number;
  readonly count: number;
  readonly of: number;
}

function shareOf(count: number, of: number): SimulatedShare {
  const { estimate, low, high } = proportionInterval({ users: of, conversions: count }, 0.05);
  return { share: estimate, low, high, count, of };
}

/** A standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export interface PeekingOptions {
  /** Conversion rate of both variants. */
  readonly baseline: number;
  /** New users per variant per day. */
  readonly usersPerDay: number;
  /** Looks, one a day (28 by default). */
  readonly days?: number;
  readonly simulations: number;
  readonly alpha?: number;
  /** Mixture scale on the relative lift (default 0.05, the analysis' default). */
  readonly tauRelative?: number;
  /** Mixture scale on the difference of rates (default baseline × tauRelative). */
  readonly tauAbsolute?: number;
  readonly seed?: number;
}

export interface PeekingResult {
  readonly days: number;
  /** The z-test at α, significant at one look or more. */
  readonly fixedAtAnyLook: SimulatedShare;
  /** The z-test at α at the last look only: its nominal use. */
  readonly fixedAtEnd: SimulatedShare;
  /** The always-valid p-value of the difference of rates ≤ α at some look. */
  readonly sequentialDifference: SimulatedShare;
  /** The always-valid p-value of the relative lift (delta method) ≤ α at some look. */
  readonly sequentialRelative: SimulatedShare;
}

/** A/A experiments read daily: false-positive rates of the fixed and the sequential tests. */
export function simulatePeeking(options: PeekingOptions): PeekingResult {
  const { baseline, usersPerDay, simulations, days = 28, alpha = 0.05 } = options;
  const tauRelative = options.tauRelative ?? 0.05;
  const tauAbsolute = options.tauAbsolute ?? baseline * tauRelative;
  const random = seededRandom(options.seed ?? 1);
  let anyLook = 0;
  let atEnd = 0;
  let difference = 0;
  let relative = 0;
  for (let s = 0; s < simulations; s++) {
    const control = { users: 0, conversions: 0 };
    const treatment = { users: 0, conversions: 0 };
    const seen = { any: false, difference: false, relative: false };
    for (let day = 1; day <= days; day++) {
      for (const variant of [control, treatment]) {
        variant.users += usersPerDay;
        variant.conversions += binomial(usersPerDay, baseline, random);
      }
      const { p } = twoProportionZTest(control, treatment);
      if (p < alpha) seen.any = true;
      if (day === days && p < alpha) atEnd++;
      const d = proportionDifference(control, treatment);
      if (d && alwaysValidPValue(d, tauAbsolute) <= alpha) seen.difference = true;
      const r = relativeLiftEstimate(control, treatment);
      if (r && alwaysValidPValue(r, tauRelative) <= alpha) seen.relative = true;
    }
    anyLook += Number(seen.any);
    difference += Number(seen.difference);
    relative += Number(seen.relative);
  }
  return {
    days,
    fixedAtAnyLook: shareOf(anyLook, simulations),
    fixedAtEnd: shareOf(atEnd, simulations),
    sequentialDifference: shareOf(difference, simulations),
    sequentialRelative: shareOf(relative, simulations),
  };
}

export interface PowerSimulationResult {
  /** Users per variant, from the planner. */
  readonly n: number;
  /** The power asked of the planner. */
  readonly target: number;
  /** The power the formula gives at the rounded-up n. */
  readonly promised: number;
  /** The share of simulated experiments the fixed-horizon test detected. */
  readonly empirical: SimulatedShare;
}

/** A/B with the planned lift, at the planner's n: the z-test's empirical power. */
export function simulateProportionsPower(options: {
  readonly baseline: number;
  readonly relativeLift: number;
  readonly alpha: number;
  readonly power: number;
  readonly simulations: number;
  readonly twoSided?: boolean;
  readonly seed?: number;
}): PowerSimulationResult {
  const { baseline, relativeLift: lift, alpha, power, simulations, twoSided = true } = options;
  const plan = { baseline, relativeLift: lift, alpha, power, twoSided };
  const n = sampleSizeForProportions(plan);
  const random = seededRandom(options.seed ?? 1);
  const treatmentRate = baseline * (1 + lift);
  let detected = 0;
  for (let s = 0; s < simulations; s++) {
    const control = { users: n, conversions: binomial(n, baseline, random) };
    const treatment = { users: n, conversions: binomial(n, treatmentRate, random) };
    const { z, p } = twoProportionZTest(control, treatment);
    // one-sided: significant in the planned direction
    if (twoSided ? p < alpha : p / 2 < alpha && Math.sign(z) === Math.sign(lift)) detected++;
  }
  return {
    n,
    target: power,
    promised: powerForProportions({ ...plan, n }),
    empirical: shareOf(detected, simulations),
  };
}

/** A/B on a normally distributed metric at the planner's n: Welch's test's empirical power. */
export function simulateMeansPower(options: {
  readonly sd: number;
  readonly difference: number;
  readonly alpha: number;
  readonly power: number;
  readonly simulations: number;
  readonly seed?: number;
}): PowerSimulationResult {
  const { sd, difference, alpha, power, simulations } = options;
  const n = sampleSizeForMeans({ sd, difference, alpha, power });
  const random = seededRandom(options.seed ?? 1);
  const sample = (mean: number) => {
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const x = mean + sd * normal(random);
      sum += x;
      sumSquares += x * x;
    }
    return { n, sum, sumSquares };
  };
  let detected = 0;
  for (let s = 0; s < simulations; s++) {
    if (welchTTest(sample(0), sample(difference)).p < alpha) detected++;
  }
  return {
    n,
    target: power,
    promised: powerForMeans({ sd, difference, alpha, n }),
    empirical: shareOf(detected, simulations),
  };
}

/** How often the 1 − alpha lift intervals cover the true lift, n users per variant. */
export function simulateLiftCoverage(options: {
  readonly controlRate: number;
  readonly treatmentRate: number;
  readonly users: number;
  readonly alpha: number;
  readonly simulations: number;
  readonly seed?: number;
}): { absolute: SimulatedShare; relative: SimulatedShare } {
  const { controlRate, treatmentRate, users, alpha, simulations } = options;
  const random = seededRandom(options.seed ?? 1);
  const trueAbsolute = treatmentRate - controlRate;
  const trueRelative = treatmentRate / controlRate - 1;
  let absolute = 0;
  let relative = 0;
  for (let s = 0; s < simulations; s++) {
    const control = { users, conversions: binomial(users, controlRate, random) };
    const treatment = { users, conversions: binomial(users, treatmentRate, random) };
    const a = absoluteLift(control, treatment, alpha);
    const r = relativeLift(control, treatment, alpha);
    if (a.low <= trueAbsolute && trueAbsolute <= a.high) absolute++;
    if (r.low <= trueRelative && trueRelative <= r.high) relative++;
  }
  return { absolute: shareOf(absolute, simulations), relative: shareOf(relative, simulations) };
}
