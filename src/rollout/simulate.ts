import { formatDuration } from './duration.js';
import type { RolloutPlan } from './plan.js';
import { runRollout, type NaiveRule, type RolloutRun, type SimulatedRule } from './simulate-run.js';
import { summarise, type Proportion, type ScenarioSummary } from './simulate-summary.js';
import {
  DEFAULT_TRAFFIC,
  drawPopulation,
  streamsFor,
  type TrafficModel,
} from './simulate-traffic.js';

export type { NaiveRule, RolloutRun, SimulatedRule, TracePoint } from './simulate-run.js';
export type { Proportion, ScenarioSummary } from './simulate-summary.js';
export { DEFAULT_TRAFFIC, type TrafficModel } from './simulate-traffic.js';

/** What to simulate; every field has a default. */
export interface SimulationOptions {
  /** Rollouts per scenario (A/A, and the regression), each under both rules. Default 1000. */
  readonly rollouts?: number;
  /** Seed of the whole series; rollout i uses streams derived from (seed, i). Default 1. */
  readonly seed?: number;
  /** The treatment's rate multiplier in the regression scenario. Default 2 (0.5 % → 1 %). */
  readonly regression?: number;
  /** The guardrail the regression hits. Default: the plan's first. */
  readonly regressed?: string;
  readonly traffic?: Partial<TrafficModel>;
  /** The naive rule. Default: threshold 0.01 on the first guardrail, after the plan's minSamples. */
  readonly naive?: Partial<NaiveRule>;
  /** Virtual time after which a rollout still holding is counted as holding. */
  readonly horizonMs?: number;
  /** Called after each rollout index (its four runs). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The options with every default applied. */
export interface ResolvedSimulation {
  readonly rollouts: number;
  readonly seed: number;
  readonly regression: number;
  readonly regressed: string;
  readonly traffic: TrafficModel;
  readonly naive: NaiveRule;
  readonly horizonMs: number;
}

/** The figures of a simulation: each rule, A/A and under the regression. */
export interface SimulationSummary {
  readonly plan: RolloutPlan;
  readonly settings: ResolvedSimulation;
  readonly sequential: { readonly aa: ScenarioSummary; readonly regression: ScenarioSummary };
  readonly naive: { readonly aa: ScenarioSummary; readonly regression: ScenarioSummary };
}

/** Applies the defaults. @internal */
export function resolveSimulation(
  plan: RolloutPlan,
  options: SimulationOptions = {},
): ResolvedSimulation {
  const first = plan.guardrails[0]?.name ?? 'errors';
  const longest = Math.max(plan.stepTimeoutMs, ...plan.steps.map((s) => s.holdMs));
  return {
    rollouts: options.rollouts ?? 1000,
    seed: options.seed ?? 1,
    regression: options.regression ?? 2,
    regressed: options.regressed ?? first,
    traffic: { ...DEFAULT_TRAFFIC, ...options.traffic },
    naive: { threshold: 0.01, minSamples: plan.minSamples, guardrail: first, ...options.naive },
    horizonMs: options.horizonMs ?? plan.steps.length * longest + plan.checkEveryMs,
  };
}

/**
 * Simulates one rollout under `rule`, with its trace: for charts and for looking closely.
 * @example
 * const run = simulateRollout(parsePlan(yaml), { seed: 7 }, 'sequential', 2, 0);
 * run.outcome; // 'rolled-back'
 */
export function simulateRollout(
  plan: RolloutPlan,
  options: SimulationOptions,
  rule: SimulatedRule,
  regression: number,
  index: number,
): RolloutRun {
  const settings = resolveSimulation(plan, options);
  return runRollout({ ...settings, plan, rule, regression, index, trace: true });
}

/**
 * `rampflag rollout simulate`: runs the REAL decision code ({@link decide}) on synthetic traffic in
 * virtual time, `rollouts` times A/A (regression 1×) and `rollouts` times with the regression, and
 * the naive rule `rate > threshold → roll back` on the same traffic (the same seeds: the same
 * population, arrivals and requests while the two rules are on the same step). The traffic model
 * is described on {@link TrafficModel}: users who come back and make several requests a visit, with
 * per-user frailty, so requests are correlated within users. Pure and deterministic: the same plan,
 * options and seed give the same summary.
 * @example
 * const summary = simulateRollouts(parsePlan(yaml), { rollouts: 1000, seed: 1 });
 * console.log(formatSimulation(summary));
 */
export function simulateRollouts(
  plan: RolloutPlan,
  options: SimulationOptions = {},
): SimulationSummary {
  const settings = resolveSimulation(plan, options);
  const runs: Record<string, RolloutRun[]> = {};
  const ringStages = plan.rings?.stages.length ?? 0;
  for (let index = 0; index < settings.rollouts; index++) {
    const population = drawPopulation(
      settings.traffic,
      ringStages,
      streamsFor(settings.seed, index).population,
    );
    for (const rule of ['sequential', 'naive'] as const)
      for (const regression of [1, settings.regression]) {
        const run = runRollout(
          { ...settings, plan, rule, regression, index, trace: false },
          population,
        );
        (runs[`${rule}:${regression === 1 ? 'aa' : 'regression'}`] ??= []).push(run);
      }
    options.onProgress?.(index + 1, settings.rollouts);
  }
  const of = (key: string) => runs[key] ?? [];
  return {
    plan,
    settings,
    sequential: {
      aa: summarise(1, of('sequential:aa')),
      regression: summarise(settings.regression, of('sequential:regression')),
    },
    naive: {
      aa: summarise(1, of('naive:aa')),
      regression: summarise(settings.regression, of('naive:regression')),
    },
  };
}

/**
 * One scenario alone: `rollouts` rollouts under one rule with one regression factor (1 = A/A),
 * summarised. The same seeds as {@link simulateRollouts}, so its rows are reproduced exactly.
 */
export function simulateScenario(
  plan: RolloutPlan,
  options: SimulationOptions,
  rule: SimulatedRule,
  regression: number,
): ScenarioSummary {
  const settings = resolveSimulation(plan, options);
  const runs: RolloutRun[] = [];
  for (let index = 0; index < settings.rollouts; index++) {
    runs.push(runRollout({ ...settings, plan, rule, regression, index, trace: false }));
    options.onProgress?.(index + 1, settings.rollouts);
  }
  return summarise(regression, runs);
}

const pct = (rate: number, digits = 1) => `${(rate * 100).toFixed(digits)} %`;
const ratio = (p: Proportion) =>
  `${pct(p.rate)} (${p.count}/${p.of}; 95 % CI ${pct(p.lower)}–${pct(p.upper)})`;
const time = (ms: number | undefined) => (ms === undefined ? '—' : formatDuration(ms));
const count = (n: number | undefined) =>
  n === undefined ? '—' : Math.round(n).toLocaleString('en');

/** The plan and traffic in one paragraph, for the table's caption. @internal */
export function describeSimulation(summary: SimulationSummary): string {
  const { plan, settings } = summary;
  const t = settings.traffic;
  const steps = plan.steps
    .map((s) => (s.kind === 'ring' ? `ring ${s.rings.at(-1) ?? ''}` : `${s.percent} %`))
    .join(' → ');
  const holds = [...new Set(plan.steps.map((s) => formatDuration(s.holdMs)))].join('/');
  const guardrails = plan.guardrails
    .map(
      (g) =>
        `${g.name} (${g.higherIsBetter ? 'maxDecrease' : 'maxIncrease'} ${pct(g.maxWorsening, 2)}${g.maxRate === undefined ? '' : `, maxRate ${pct(g.maxRate, 2)}`}, τ ${g.tau})`,
    )
    .join(', ');
  const frailty = Number.isFinite(t.heterogeneity)
    ? `per-user frailty Gamma(shape ${t.heterogeneity})`
    : 'no per-user frailty';
  return (
    `Plan: steps ${steps}, hold ${holds}, minSamples ${plan.minSamples}, checks every ` +
    `${formatDuration(plan.checkEveryMs)}, α = ${plan.alpha}; guardrails: ${guardrails}. ` +
    `Traffic: ${t.visitsPerSecond} visits/s from ${count(t.users)} users, ${t.requestsPerVisit} ` +
    `requests per visit on average (geometric), ${frailty}, baseline ${pct(t.baseline, 2)} bad. ` +
    `${count(settings.rollouts)} rollouts per row, seed ${settings.seed}; the naive rule rolls back ` +
    `when the treated cohort's ${settings.naive.guardrail} rate in the step is above ` +
    `${pct(settings.naive.threshold, 2)} once it has ${settings.naive.minSamples} requests.`
  );
}

/** The figures as a markdown table, with the plan and traffic above it. */
export function formatSimulation(summary: SimulationSummary): string {
  const { sequential: s, naive: n, settings } = summary;
  const base = settings.traffic.baseline;
  const rows: [string, (x: { aa: ScenarioSummary; regression: ScenarioSummary }) => string][] = [
    ['A/A false rollbacks', (x) => ratio(x.aa.rolledBack)],
    [
      'A/A completed (median time)',
      (x) => `${x.aa.completed} (${time(x.aa.timeToComplete?.median)})`,
    ],
    [
      `${settings.regression}× regression (${pct(base, 2)} → ${pct(base * settings.regression, 2)}) rolled back`,
      (x) => ratio(x.regression.rolledBack),
    ],
    [
      'Time to detect, median / p90',
      (x) =>
        `${time(x.regression.timeToRollback?.median)} / ${time(x.regression.timeToRollback?.p90)}`,
    ],
    [
      'Users exposed before rollback, median (p90)',
      (x) =>
        `${count(x.regression.exposedBeforeRollback?.usersMedian)} (${count(x.regression.exposedBeforeRollback?.usersP90)})`,
    ],
    [
      'Requests exposed before rollback, median',
      (x) => count(x.regression.exposedBeforeRollback?.requestsMedian),
    ],
    [
      'Regression missed: completed / still holding',
      (x) => `${x.regression.completed} / ${x.regression.holding}`,
    ],
  ];
  const threshold = pct(settings.naive.threshold, 0);
  return [
    describeSimulation(summary),
    '',
    `| | Sequential (rampflag, α = ${summary.plan.alpha}) | Naive: roll back if rate > ${threshold} |`,
    '|---|---|---|',
    ...rows.map(([label, cell]) => `| ${label} | ${cell(s)} | ${cell(n)} |`),
  ].join('\n');
}
