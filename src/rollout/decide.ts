import {
  confidenceSequence,
  rateOf,
  sampleRatioMismatch,
  stratifiedDifference,
  type Counts,
  type Interval,
  type SrmResult,
} from '../stats/index.js';
import { formatDuration } from './duration.js';
import type { Guardrail, RolloutPlan } from './plan.js';

/** Where a rollout stands, as its flag's metadata records it. */
export type RolloutStatus = 'running' | 'paused' | 'completed' | 'rolled-back' | 'killed';

/** A rollout's state: the step it is on and since when. */
export interface RolloutState {
  readonly id: string;
  readonly status: RolloutStatus;
  /** Index into the plan's steps. */
  readonly step: number;
  /** When the current step began (ms since the epoch). */
  readonly since: number;
}

/** Counts per guardrail name. */
export type GuardrailCounts = Readonly<Record<string, Counts>>;

/** What was measured during one step: one stratum of the comparison. */
export interface StepEvidence {
  /** Index into the plan's steps. */
  readonly step: number;
  /** Users bucketed into the treatment. */
  readonly treatment: GuardrailCounts;
  /** Users bucketed into the control. */
  readonly control: GuardrailCounts;
  /** Ring users, who get the treatment whatever their bucket: judged on absolute limits only. */
  readonly ring?: GuardrailCounts;
  /** Exposures per bucketed cohort, for the sample-ratio check, and what they count. */
  readonly exposures?: {
    readonly treatment: number;
    readonly control: number;
    readonly unit: 'requests' | 'users';
  };
}

/** The evidence of a rollout so far: one entry per step it has been on (the current one last). */
export interface Evidence {
  readonly steps: readonly StepEvidence[];
}

/** What one guardrail's evidence says. */
export interface GuardrailVerdict {
  readonly name: string;
  readonly verdict: 'harm' | 'ok' | 'no-data';
  /** treatment − control over the steps so far, with its anytime-valid interval. */
  readonly difference?: Interval;
  /** The treatment's own rate (bucketed users, every step), with its interval. */
  readonly treatmentRate?: Interval;
  /** The ring cohort's rate in this step, with its interval. */
  readonly ringRate?: Interval;
  /** Events per cohort in the current step. */
  readonly samples: { readonly treatment: number; readonly control: number; readonly ring: number };
  readonly detail: string;
}

/** A decision and why. */
export interface Decision {
  readonly action: 'advance' | 'hold' | 'complete' | 'rollback';
  readonly reason: string;
  readonly guardrails: readonly GuardrailVerdict[];
  readonly srm?: SrmResult;
}

const NONE: Counts = { bad: 0, total: 0 };
const add = (a: Counts, b: Counts): Counts => ({ bad: a.bad + b.bad, total: a.total + b.total });
const pct = (rate: number) => `${(rate * 100).toFixed(3)} %`;
const span = (i: Interval) => `${pct(i.estimate)} [${pct(i.lower)}, ${pct(i.upper)}]`;

/** Whether counts can be real: whole, non-negative, bad ≤ total (a counter reset breaks this). */
const consistent = (c: Counts): boolean =>
  Number.isFinite(c.bad) &&
  Number.isFinite(c.total) &&
  c.bad >= 0 &&
  c.total >= 0 &&
  c.bad <= c.total;

/** Whether `interval` shows a rate above `limit` (lower is better) or below it (higher is better). */
function beyond(interval: Interval, limit: number, higherIsBetter: boolean): boolean {
  return higherIsBetter ? interval.upper < limit : interval.lower > limit;
}

function judge(
  guardrail: Guardrail,
  evidence: Evidence,
  current: StepEvidence | undefined,
  alpha: number,
): GuardrailVerdict {
  const { name, higherIsBetter, maxRate, maxWorsening, tau } = guardrail;
  // counts that cannot be real (a counter reset, a custom query gone wrong) count as no data
  const of = (counts: GuardrailCounts | undefined) => {
    const c = counts?.[name] ?? NONE;
    return consistent(c) ? c : NONE;
  };
  const samples = {
    treatment: of(current?.treatment).total,
    control: of(current?.control).total,
    ring: of(current?.ring).total,
  };
  const strata = evidence.steps.map((s) => ({
    treatment: of(s.treatment),
    control: of(s.control),
  }));
  const broken = evidence.steps.some((s) =>
    [s.treatment, s.control, s.ring].some((c) => c?.[name] !== undefined && !consistent(c[name])),
  );
  const diff = stratifiedDifference(strata);
  const difference = diff && confidenceSequence(diff, alpha, tau);
  const ownRate = rateOf(strata.map((s) => s.treatment).reduce(add, NONE));
  const treatmentRate = ownRate && confidenceSequence(ownRate, alpha, tau);
  const ring = rateOf(of(current?.ring));
  const ringRate = ring && confidenceSequence(ring, alpha, tau);
  const verdict = {
    name,
    samples,
    ...(difference && { difference }),
    ...(treatmentRate && { treatmentRate }),
    ...(ringRate && { ringRate }),
  };
  const worse = higherIsBetter ? -maxWorsening : maxWorsening;
  if (difference !== undefined && beyond(difference, worse, higherIsBetter))
    return {
      ...verdict,
      verdict: 'harm',
      detail: `${name}: treatment − control ${span(difference)} is past the allowed ${pct(worse)}`,
    };
  if (maxRate !== undefined) {
    if (treatmentRate !== undefined && beyond(treatmentRate, maxRate, higherIsBetter))
      return {
        ...verdict,
        verdict: 'harm',
        detail: `${name}: the treatment's rate ${span(treatmentRate)} is past its limit ${pct(maxRate)}`,
      };
    if (ringRate !== undefined && beyond(ringRate, maxRate, higherIsBetter))
      return {
        ...verdict,
        verdict: 'harm',
        detail: `${name}: the ring cohort's rate ${span(ringRate)} is past its limit ${pct(maxRate)}`,
      };
  }
  if (broken)
    return {
      ...verdict,
      verdict: 'no-data',
      detail: `${name}: the counts are inconsistent (a counter reset?)`,
    };
  if (difference === undefined && ringRate === undefined)
    return { ...verdict, verdict: 'no-data', detail: `${name}: no data yet` };
  return {
    ...verdict,
    verdict: 'ok',
    detail: `${name}: ${difference ? `treatment − control ${span(difference)}` : `ring ${span(ringRate as Interval)}`}`,
  };
}

/** The sample-ratio check of the current step's bucketed exposures against its split, if it has one. */
function srmOf(plan: RolloutPlan, state: RolloutState, current: StepEvidence | undefined) {
  const step = plan.steps[state.step];
  const exposures = current?.exposures;
  if (step === undefined || exposures === undefined) return undefined;
  const percent = step.kind === 'percent' ? step.percent : 0;
  // at 0 % and 100 % there is no split to check, only the few requests served while the change
  // was on its way to the providers
  if (percent <= 0 || percent >= 100) return undefined;
  return sampleRatioMismatch([exposures.treatment, exposures.control], [percent, 100 - percent]);
}

/**
 * The controller's decision at `now`: advance, hold, complete or roll back, with the reason and
 * every guardrail's evidence. Pure: no clock, no I/O.
 *
 * - Harm rolls back at once, whatever the hold: a guardrail whose anytime-valid interval (α split
 *   across guardrails, Bonferroni) lies wholly past the allowed worsening, or an absolute limit
 *   passed by the treatment or by the ring cohort (ring users are never compared with the control).
 * - Too little data is never a pass: the step holds until each cohort has `minSamples` events;
 *   past `stepTimeout` the plan's `onTimeout` applies.
 * - A sample ratio mismatch holds (or rolls back, or only warns, as the plan says); counted in
 *   requests it only warns, and it never rolls back through the step timeout.
 * - A paused rollout is judged for harm alone; counts that cannot be real are no data.
 * - Otherwise the step advances once its hold is over, and the last step completes.
 */
export function decide(
  plan: RolloutPlan,
  state: RolloutState,
  evidence: Evidence,
  now: number,
): Decision {
  if (state.status !== 'running' && state.status !== 'paused')
    return { action: 'hold', reason: `the rollout is ${state.status}`, guardrails: [] };
  const step = plan.steps[state.step];
  if (step === undefined)
    return { action: 'hold', reason: `step ${state.step} is not in the plan`, guardrails: [] };
  const current = evidence.steps.find((s) => s.step === state.step);

  // Bonferroni over every test run: each guardrail's difference, and its absolute limit on the
  // treatment and on the ring cohort
  const tests = plan.guardrails.reduce(
    (n, g) => n + 1 + (g.maxRate === undefined ? 0 : plan.rings === undefined ? 1 : 2),
    0,
  );
  const alpha = plan.alpha / tests;
  const guardrails = plan.guardrails.map((g) => judge(g, evidence, current, alpha));
  const harm = guardrails.filter((g) => g.verdict === 'harm');
  if (harm.length > 0)
    return { action: 'rollback', reason: harm.map((g) => g.detail).join('; '), guardrails };
  // a paused rollout is still watched for harm, and only for harm
  if (state.status === 'paused')
    return { action: 'hold', reason: 'the rollout is paused', guardrails };

  const elapsed = now - state.since;
  const srm = srmOf(plan, state, current);
  const inRequests = current?.exposures?.unit === 'requests';
  // counted in requests, returning and heavy users make the cohorts' counts vary far more than the
  // test assumes: it can only warn then
  const srmAction = inRequests ? 'warn' : plan.srm.action;
  const srmNote =
    srm && srm.pValue < plan.srm.threshold
      ? `sample ratio mismatch: p = ${srm.pValue.toExponential(2)} < ${plan.srm.threshold}${inRequests ? ' (counted in requests, which returning and heavy users over-disperse: a warning only; count exposures in users to act on it)' : ''}`
      : undefined;
  const withSrm = srm === undefined ? {} : { srm };
  if (srmNote !== undefined && srmAction === 'rollback')
    return { action: 'rollback', reason: srmNote, guardrails, ...withSrm };

  // a ring stage has only ring users on the treatment; at 100 % no bucketed user is on the control
  const cohorts =
    step.kind === 'ring'
      ? (['ring'] as const)
      : step.percent === 100
        ? (['treatment'] as const)
        : (['treatment', 'control'] as const);
  const broken = guardrails.filter((g) => g.detail.endsWith('(a counter reset?)'));
  const thin = guardrails.filter(
    (g) => !broken.includes(g) && cohorts.some((c) => g.samples[c] < plan.minSamples),
  );
  const short = [
    ...broken.map((g) => g.detail),
    ...(thin.length > 0
      ? [
          `waiting for ${plan.minSamples} events per cohort: ${thin.map((g) => `${g.name} ${cohorts.map((c) => `${c} ${g.samples[c]}`).join(', ')}`).join('; ')}`,
        ]
      : []),
  ];
  const srmHolds = srmNote !== undefined && srmAction === 'hold';
  const waiting = short.length > 0 ? short.join('; ') : srmHolds ? srmNote : undefined;
  if (waiting !== undefined) {
    if (elapsed >= plan.stepTimeoutMs) {
      const timedOut = `the step timed out after ${formatDuration(plan.stepTimeoutMs)}: ${waiting}`;
      // a sample ratio mismatch alone is never a reason to roll back by timeout
      const rollback = plan.onTimeout === 'rollback' && short.length > 0;
      return {
        action: rollback ? 'rollback' : 'hold',
        reason: timedOut,
        guardrails,
        ...withSrm,
      };
    }
    return { action: 'hold', reason: waiting, guardrails, ...withSrm };
  }
  if (elapsed < step.holdMs)
    return {
      action: 'hold',
      reason: `holding: ${formatDuration(step.holdMs - elapsed)} left in this step${srmNote ? `; ${srmNote}` : ''}`,
      guardrails,
      ...withSrm,
    };
  const last = state.step === plan.steps.length - 1;
  const passed = `every guardrail passed${srmNote ? ` (warning: ${srmNote})` : ''}`;
  return { action: last ? 'complete' : 'advance', reason: passed, guardrails, ...withSrm };
}
