import {
  confidenceSequence,
  daysNeeded,
  normalQuantile,
  sampleSizeForMeans,
  sampleSizeForProportions,
} from '../stats/index.js';

/** What to plan for: a conversion's relative lift on a baseline, or a difference of means. */
export type PlanInput = (
  | { readonly baseline: number; readonly relativeLift: number }
  | { readonly sd: number; readonly difference: number }
) & {
  /** Default 0.05. */
  readonly alpha?: number;
  /** Default 0.8. */
  readonly power?: number;
  /** Variants, the control included. Default 2. */
  readonly variants?: number;
  /** Users entering the experiment per day, all variants together. */
  readonly usersPerDay?: number;
  /** Default true. */
  readonly twoSided?: boolean;
};

/** A plan: users per variant for the fixed-horizon test, and for the anytime-valid one. */
export interface ExperimentPlan {
  readonly kind: 'conversion' | 'mean';
  /** Each comparison with the control is planned at α / (variants − 1) (Bonferroni ≥ Holm). */
  readonly alphaPerComparison: number;
  readonly power: number;
  readonly variants: number;
  readonly twoSided: boolean;
  /** Users per variant for the fixed-horizon test read once at the end. */
  readonly perVariant: number;
  readonly total: number;
  /** Days at `usersPerDay`, when given. */
  readonly days?: number;
  /**
   * For a conversion: the users per variant at which the anytime-valid interval (τ = the lift)
   * excludes 0 with the given power at the effect planned for, if read only then (it may stop
   * sooner: reading it every day costs nothing), and the days that takes.
   */
  readonly sequential?: {
    readonly tau: number;
    readonly perVariant: number;
    readonly days?: number;
  };
}

function check(value: number, name: string, low: number, high: number, integer = false): number {
  if (!(value > low && value < high) || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `${name} must be ${integer ? 'a whole number ' : ''}in (${low}, ${high}), got ${value}`,
    );
  return value;
}

/**
 * The users per variant at which the anytime-valid interval of the relative lift, at mixture scale
 * `tau`, excludes 0 with probability `power` when the true lift is `lift` (normal approximation,
 * read once at that size): the smallest n with lift − halfWidth(V) ≥ z_power·√V, V the delta-method
 * variance of the relative lift at n users per variant.
 */
export function sequentialSampleSize(
  baseline: number,
  lift: number,
  alpha: number,
  power: number,
  tau: number,
): number {
  const treated = baseline * (1 + lift);
  const r = treated / baseline;
  const unit =
    (treated * (1 - treated) + r * r * baseline * (1 - baseline)) / (baseline * baseline);
  const zPower = normalQuantile(power);
  const enough = (n: number) => {
    const variance = unit / n;
    const cs = confidenceSequence({ estimate: Math.abs(lift), variance }, alpha, tau);
    return cs.lower >= zPower * Math.sqrt(variance);
  };
  let [low, high] = [1, 2];
  while (!enough(high)) [low, high] = [high, high * 2];
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (mid <= low || mid >= high) break; // past 2^53 no whole number lies between them
    if (enough(mid)) high = mid;
    else low = mid;
  }
  return high;
}

/**
 * Plans an experiment: the users per variant to detect a conversion's relative lift on a baseline
 * (two-proportion z-test) or a difference of means (t-test) at the given power, the days that
 * takes at the given traffic (every variant, the control too, takes its share), and for a
 * conversion the users the anytime-valid analysis needs (τ = the lift). With more than two
 * variants each comparison is planned at α / (variants − 1).
 *
 * @example
 * planExperiment({ baseline: 0.03, relativeLift: 0.05, usersPerDay: 20_000 });
 */
export function planExperiment(input: PlanInput): ExperimentPlan {
  const alpha = check(input.alpha ?? 0.05, 'alpha', 0, 1);
  const power = check(input.power ?? 0.8, 'power', 0, 1);
  const variants = check(input.variants ?? 2, 'variants', 1, 1001, true);
  const twoSided = input.twoSided ?? true;
  const perComparison = alpha / (variants - 1);
  const days = (n: number) =>
    input.usersPerDay === undefined
      ? {}
      : { days: daysNeeded(n, variants, check(input.usersPerDay, 'usersPerDay', 0, Infinity)) };
  const common = { alphaPerComparison: perComparison, power, variants, twoSided };
  if ('baseline' in input) {
    const { baseline, relativeLift } = input;
    check(baseline, 'baseline', 0, 1);
    if (
      relativeLift === 0 ||
      !(baseline * (1 + relativeLift) > 0 && baseline * (1 + relativeLift) < 1)
    )
      throw new RangeError(
        `a relative lift of ${relativeLift} on ${baseline} is not a rate in (0, 1)`,
      );
    const perVariant = sampleSizeForProportions({
      baseline,
      relativeLift,
      alpha: perComparison,
      power,
      twoSided,
    });
    const tau = Math.abs(relativeLift);
    const sequential = sequentialSampleSize(baseline, relativeLift, perComparison, power, tau);
    return {
      kind: 'conversion',
      ...common,
      perVariant,
      total: perVariant * variants,
      ...days(perVariant),
      sequential: { tau, perVariant: sequential, ...days(sequential) },
    };
  }
  const { sd, difference } = input;
  check(sd, 'sd', 0, Infinity);
  if (!(difference !== 0 && Number.isFinite(difference)))
    throw new RangeError(`difference must be a number other than 0, got ${difference}`);
  const perVariant = sampleSizeForMeans({ sd, difference, alpha: perComparison, power, twoSided });
  return { kind: 'mean', ...common, perVariant, total: perVariant * variants, ...days(perVariant) };
}
