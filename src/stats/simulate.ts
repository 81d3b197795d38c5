/**
 * Seeded Monte Carlo checks of the experiment statistics, shared by test/stats and
 * bench/experiment-sim.ts (the tests run them small, the bench at full size):
 *
 * - Power: A/B at the planner's n, the share of experiments the fixed test detects, against the
 *   power the planner promised.
 * - Coverage of the lift intervals.
 * - A/A peeking is in simulate-peeking.ts.
 *
 * Each figure comes with its Wilson 95 % interval: the Monte Carlo error.
 */
import { absoluteLift, relativeLift } from './lift.js';
import { welchTTest } from './means.js';
import {
  powerForMeans,
  powerForProportions,
  sampleSizeForMeans,
  sampleSizeForProportions,
} from './power.js';
import { proportionInterval, twoProportionZTest } from './proportions.js';
import { binomial, seededRandom } from './random.js';

/** A simulated share with its Monte Carlo (Wilson 95 %) interval. */
export interface SimulatedShare {
  readonly share: number;
  readonly low: number;
  readonly high: number;
  readonly count: number;
  readonly of: number;
}

/** count/of with its Wilson 95 % interval. @internal */
export function shareOf(count: number, of: number): SimulatedShare {
  const { estimate, low, high } = proportionInterval({ users: of, conversions: count }, 0.05);
  return { share: estimate, low, high, count, of };
}

/** A standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** The planner's promise next to what simulation gives. */
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
