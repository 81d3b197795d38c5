/**
 * A/A experiments read every day (seeded Monte Carlo): two identical variants, and the share of
 * experiments in which a test says "significant" at some look. The fixed-horizon z-test, read
 * daily, says so far more often than α; the always-valid p-value of the mixture SPRT (on the
 * difference of rates, as rollouts use it, and on the relative lift, as experiment analysis does)
 * stays under α however often it is read.
 */
import { alwaysValidPValue } from './always-valid.js';
import { relativeLiftEstimate } from './lift.js';
import { proportionDifference, twoProportionZTest } from './proportions.js';
import { binomial, seededRandom } from './random.js';
import { shareOf, type SimulatedShare } from './simulate.js';

/** An A/A experiment read once a day. */
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

/** Shares of A/A experiments declared significant, by test. */
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
