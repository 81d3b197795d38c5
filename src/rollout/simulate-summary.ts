import type { RolloutRun } from './simulate-run.js';

/** A proportion with its 95 % interval. */
export interface Proportion {
  readonly count: number;
  readonly of: number;
  readonly rate: number;
  /** Wilson score interval at 95 %. */
  readonly lower: number;
  readonly upper: number;
}

/** A set of simulated rollouts under one rule and one regression, summarised. */
export interface ScenarioSummary {
  /** The treatment's rate multiplier (1 = A/A). */
  readonly regression: number;
  readonly rollouts: number;
  readonly rolledBack: Proportion;
  readonly completed: number;
  /** Still holding at the horizon. */
  readonly holding: number;
  /** Time from the start to the rollback, over the rollouts that rolled back (ms). */
  readonly timeToRollback: { readonly median: number; readonly p90: number } | undefined;
  /** Time from the start to completion, over the rollouts that completed (ms). */
  readonly timeToComplete: { readonly median: number; readonly p90: number } | undefined;
  /** Users and requests served the treatment before the rollback, over those that rolled back. */
  readonly exposedBeforeRollback:
    | { readonly usersMedian: number; readonly requestsMedian: number; readonly usersP90: number }
    | undefined;
}

const Z95 = 1.959963984540054;

/** The Wilson score interval of `count` successes in `of` trials, at 95 %. @internal */
export function proportion(count: number, of: number): Proportion {
  if (of === 0) return { count, of, rate: 0, lower: 0, upper: 1 };
  const p = count / of;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * of)) / (1 + z2 / of);
  const half = (Z95 / (1 + z2 / of)) * Math.sqrt((p * (1 - p)) / of + z2 / (4 * of * of));
  // at 0 or at n the interval ends exactly at 0 or 1 (rounding would leave 1e-19)
  const lower = count === 0 ? 0 : Math.max(0, centre - half);
  const upper = count === of ? 1 : Math.min(1, centre + half);
  return { count, of, rate: p, lower, upper };
}

/** The q-quantile of values (nearest rank); undefined for none. @internal */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const spread = (values: readonly number[]) =>
  values.length === 0
    ? undefined
    : { median: quantile(values, 0.5) as number, p90: quantile(values, 0.9) as number };

/** Summarises the runs of one scenario. @internal */
export function summarise(regression: number, runs: readonly RolloutRun[]): ScenarioSummary {
  const back = runs.filter((r) => r.outcome === 'rolled-back');
  const done = runs.filter((r) => r.outcome === 'completed');
  const users = back.map((r) => r.usersExposed);
  return {
    regression,
    rollouts: runs.length,
    rolledBack: proportion(back.length, runs.length),
    completed: done.length,
    holding: runs.length - back.length - done.length,
    timeToRollback: spread(back.map((r) => r.timeMs)),
    timeToComplete: spread(done.map((r) => r.timeMs)),
    exposedBeforeRollback:
      back.length === 0
        ? undefined
        : {
            usersMedian: quantile(users, 0.5) as number,
            usersP90: quantile(users, 0.9) as number,
            requestsMedian: quantile(
              back.map((r) => r.requestsExposed),
              0.5,
            ) as number,
          },
  };
}
