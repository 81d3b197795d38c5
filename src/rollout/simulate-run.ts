import { decide, type Decision, type Evidence, type RolloutState } from './decide.js';
import type { RolloutPlan, RolloutStep } from './plan.js';
import {
  drawPopulation,
  streamsFor,
  type Population,
  type TrafficModel,
} from './simulate-traffic.js';

/** The decision rule a simulated rollout runs under. */
export type SimulatedRule = 'sequential' | 'naive';

/**
 * The naive rule, as a threshold check in a canary tool is often written: at every check, roll back
 * if the treated cohort's rate in the current step is above `threshold`, once it has `minSamples`
 * requests; otherwise advance when the hold is over, on the same schedule as the plan.
 */
export interface NaiveRule {
  readonly threshold: number;
  readonly minSamples: number;
  /** The guardrail it reads (the plan's first unless named). */
  readonly guardrail: string;
}

/** One simulated rollout's settings. @internal */
export interface RunSettings {
  readonly plan: RolloutPlan;
  readonly traffic: TrafficModel;
  /** The treatment's rate is the baseline × this for the `regressed` guardrail (1 = A/A). */
  readonly regression: number;
  readonly regressed: string;
  readonly rule: SimulatedRule;
  readonly naive: NaiveRule;
  readonly horizonMs: number;
  readonly seed: number;
  /** Which rollout of the series: with the seed, it picks the random streams. */
  readonly index: number;
  readonly trace: boolean;
}

/** One check of a simulated rollout, for charts. */
export interface TracePoint {
  /** Virtual time since the rollout started (ms). */
  readonly time: number;
  readonly step: number;
  /** The bucketed treatment share at this check (0 on a ring stage). */
  readonly percent: number;
  readonly action: Decision['action'];
  /** The first guardrail's treatment − control and its anytime-valid interval (sequential rule). */
  readonly difference?: {
    readonly estimate: number;
    readonly lower: number;
    readonly upper: number;
  };
  /** The treated cohort's rate in this step, on the naive rule's guardrail. */
  readonly treatedRate?: number;
}

/** What happened to one simulated rollout. */
export interface RolloutRun {
  readonly outcome: 'completed' | 'rolled-back' | 'holding';
  /** When it completed or rolled back; the horizon if it was still holding. */
  readonly timeMs: number;
  /** The step it ended on. */
  readonly step: number;
  /** Distinct users, and requests, served the treatment (bucketed or ring) until then. */
  readonly usersExposed: number;
  readonly requestsExposed: number;
  /** The last decision's reason. */
  readonly reason: string;
  readonly trace: readonly TracePoint[];
}

const TREATMENT = 0;
const CONTROL = 1;
const RING = 2;

/** Counts of one step: bad/total per cohort and guardrail, and distinct users per bucketed cohort. */
interface Stratum {
  readonly step: number;
  /** [(cohort × guardrails + guardrail) × 2] = bad, [… + 1] = total. */
  readonly counts: Float64Array;
  readonly users: [number, number];
}

/** Who gets the treatment on a step: the bucket threshold and how many ring stages are on. */
function exposureOf(step: RolloutStep, ringStages: number) {
  return step.kind === 'ring'
    ? { threshold: 0, rings: step.rings.length }
    : { threshold: step.percent / 100, rings: ringStages };
}

function evidenceOf(strata: readonly Stratum[], names: readonly string[]): Evidence {
  const cohort = (s: Stratum, c: number) =>
    Object.fromEntries(
      names.map((name, g) => {
        const at = (c * names.length + g) * 2;
        return [name, { bad: s.counts[at] as number, total: s.counts[at + 1] as number }];
      }),
    );
  return {
    steps: strata.map((s) => ({
      step: s.step,
      treatment: cohort(s, TREATMENT),
      control: cohort(s, CONTROL),
      ring: cohort(s, RING),
      exposures: { treatment: s.users[0], control: s.users[1], unit: 'users' as const },
    })),
  };
}

/** The naive rule's decision on the current step. */
function naiveDecision(
  settings: RunSettings,
  state: RolloutState,
  stratum: Stratum,
  now: number,
): { action: Decision['action']; reason: string; rate: number | undefined } {
  const { plan, naive } = settings;
  const step = plan.steps[state.step] as RolloutStep;
  const g = Math.max(
    0,
    plan.guardrails.findIndex((x) => x.name === naive.guardrail),
  );
  const at = ((step.kind === 'ring' ? RING : TREATMENT) * plan.guardrails.length + g) * 2;
  const bad = stratum.counts[at] as number;
  const total = stratum.counts[at + 1] as number;
  const rate = total > 0 ? bad / total : undefined;
  const enough = total >= naive.minSamples;
  if (rate !== undefined && enough && rate > naive.threshold)
    return { action: 'rollback', reason: `rate ${rate} > ${naive.threshold}`, rate };
  if (enough && now - state.since >= step.holdMs) {
    const last = state.step === plan.steps.length - 1;
    return { action: last ? 'complete' : 'advance', reason: 'under the threshold', rate };
  }
  return { action: 'hold', reason: 'holding', rate };
}

function newStratum(step: number, size: number): Stratum {
  return { step, counts: new Float64Array(size), users: [0, 0] };
}

/**
 * ln(1 − rate) per user, guardrail and exposure (untreated, treated): the hot loop's Binomial draws
 * need it, and computing it once per rollout instead of once per visit halves the run time.
 */
function logKeeps(settings: RunSettings, people: Population, regressed: number): Float64Array {
  const { traffic, plan } = settings;
  const G = plan.guardrails.length;
  const table = new Float64Array(traffic.users * G * 2);
  for (let user = 0; user < traffic.users; user++) {
    const base = traffic.baseline * (people.frailty[user] as number);
    for (let g = 0; g < G; g++) {
      const at = (user * G + g) * 2;
      table[at] = Math.log1p(-Math.min(1, base));
      table[at + 1] = Math.log1p(-Math.min(1, g === regressed ? base * settings.regression : base));
    }
  }
  return table;
}

/**
 * A Binomial(n, p) draw given ln(1 − p), by geometric waiting times between bad events (the
 * algorithm of stats/binomial, with the logarithm precomputed): O(np + 1), exact.
 */
function binomialLog(n: number, logKeep: number, random: () => number): number {
  if (logKeep === 0) return 0;
  let bad = 0;
  for (let position = 0; ; bad++) {
    position += Math.floor(Math.log(1 - random()) / logKeep) + 1;
    if (position > n) return bad;
  }
}

/**
 * Runs one rollout in virtual time: visits arrive and are served as the current step says; every
 * `checkEvery` the rule decides, and its decision is applied as the controller would (advance: the
 * next step from now; rollback and complete: stop). Pure: the randomness comes from `seed` and
 * `index`. Deliberately one loop with its state in locals: it runs millions of times.
 * @internal
 */
export function runRollout(settings: RunSettings, population?: Population): RolloutRun {
  const { plan, traffic, rule } = settings;
  const names = plan.guardrails.map((g) => g.name);
  const G = names.length;
  const regressed = Math.max(0, names.indexOf(settings.regressed));
  const ringStages = plan.rings?.stages.length ?? 0;
  const random = streamsFor(settings.seed, settings.index);
  const people = population ?? drawPopulation(traffic, ringStages, random.population);
  const seen = new Int32Array(traffic.users); // the step (+1) a user was last counted in
  const exposed = new Uint8Array(traffic.users);
  const keeps = logKeeps(settings, people, regressed);
  const perMs = traffic.visitsPerSecond / 1000;
  const { arrivals, failures } = random;
  const nextGap = () => -Math.log(1 - arrivals()) / perMs;
  const mean = traffic.requestsPerVisit;
  const logMore = mean > 1 ? Math.log1p(-1 / mean) : -Infinity; // geometric K ≥ 1 with this mean
  const trace: TracePoint[] = [];

  let state: RolloutState = { id: 'simulated', status: 'running', step: 0, since: 0 };
  let exposure = exposureOf(plan.steps[0] as RolloutStep, ringStages);
  const strata: Stratum[] = [newStratum(0, 3 * G * 2)];
  let usersExposed = 0;
  let requestsExposed = 0;
  let nextVisit = nextGap();
  for (let now = plan.checkEveryMs; now <= settings.horizonMs; now += plan.checkEveryMs) {
    const stratum = strata[strata.length - 1] as Stratum;
    const counts = stratum.counts;
    for (; nextVisit < now; nextVisit += nextGap()) {
      const user = Math.floor(arrivals() * traffic.users);
      const ring = people.ring[user] as number;
      const cohort =
        ring >= 0 && ring < exposure.rings
          ? RING
          : (people.bucket[user] as number) < exposure.threshold
            ? TREATMENT
            : CONTROL;
      const requests = 1 + Math.floor(Math.log(1 - arrivals()) / logMore);
      const treated = cohort === CONTROL ? 0 : 1;
      for (let g = 0; g < G; g++) {
        const at = (cohort * G + g) * 2;
        const keep = keeps[(user * G + g) * 2 + treated] as number;
        counts[at] = (counts[at] as number) + binomialLog(requests, keep, failures);
        counts[at + 1] = (counts[at + 1] as number) + requests;
      }
      if (cohort !== RING && seen[user] !== state.step + 1) {
        seen[user] = state.step + 1;
        stratum.users[cohort]++;
      }
      if (cohort !== CONTROL) {
        requestsExposed += requests;
        if (exposed[user] === 0) {
          exposed[user] = 1;
          usersExposed++;
        }
      }
    }

    let action: Decision['action'];
    let reason: string;
    if (rule === 'sequential') {
      const decision = decide(plan, state, evidenceOf(strata, names), now);
      ({ action, reason } = decision);
      if (settings.trace) {
        const d = decision.guardrails[0]?.difference;
        const step = state.step;
        trace.push({
          time: now,
          step,
          percent: exposure.threshold * 100,
          action,
          ...(d && { difference: { estimate: d.estimate, lower: d.lower, upper: d.upper } }),
        });
      }
    } else {
      const decision = naiveDecision(settings, state, stratum, now);
      ({ action, reason } = decision);
      if (settings.trace)
        trace.push({
          time: now,
          step: state.step,
          percent: exposure.threshold * 100,
          action,
          ...(decision.rate !== undefined && { treatedRate: decision.rate }),
        });
    }
    const end = (outcome: RolloutRun['outcome']): RolloutRun => ({
      outcome,
      timeMs: now,
      step: state.step,
      usersExposed,
      requestsExposed,
      reason,
      trace,
    });
    if (action === 'rollback') return end('rolled-back');
    if (action === 'complete') return end('completed');
    if (action === 'advance') {
      state = { ...state, step: state.step + 1, since: now };
      exposure = exposureOf(plan.steps[state.step] as RolloutStep, ringStages);
      strata.push(newStratum(state.step, 3 * G * 2));
    }
  }
  return {
    outcome: 'holding',
    timeMs: settings.horizonMs,
    step: state.step,
    usersExposed,
    requestsExposed,
    reason: 'still holding at the horizon',
    trace,
  };
}
