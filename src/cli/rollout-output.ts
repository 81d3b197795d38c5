import type { GuardrailVerdict } from '../rollout/decide.js';
import type { RolloutOutcome } from '../rollout/controller.js';
import { formatDuration } from '../rollout/duration.js';
import type { RolloutPlan } from '../rollout/plan.js';
import type { StoredRollout } from '../rollout/state.js';

const pct = (rate: number) => `${(rate * 100).toFixed(2)}%`;

/** Where a rollout stands, in words: `step 3/7 (25%) running since 10:02:11`. */
export function describeRollout(plan: RolloutPlan, rollout: StoredRollout | undefined): string {
  if (rollout === undefined) return `flag ${plan.flag}: no rollout`;
  const step = plan.steps[rollout.step];
  const what = step?.kind === 'ring' ? `rings ${step.rings.join('+')}` : `${rollout.percent}%`;
  return `flag ${plan.flag}: rollout ${rollout.id} ${rollout.status}, step ${rollout.step + 1}/${plan.steps.length} (${what}) since ${new Date(rollout.since).toISOString()}`;
}

/** One guardrail's evidence in a line: samples per cohort and the interval. */
export function describeGuardrail(g: GuardrailVerdict): string {
  const samples = `treatment ${g.samples.treatment}, control ${g.samples.control}${g.samples.ring > 0 ? `, ring ${g.samples.ring}` : ''}`;
  const interval = g.difference
    ? ` Δ ${pct(g.difference.estimate)} [${pct(g.difference.lower)}, ${pct(g.difference.upper)}]`
    : g.ringRate
      ? ` ring ${pct(g.ringRate.estimate)} [${pct(g.ringRate.lower)}, ${pct(g.ringRate.upper)}]`
      : '';
  return `${g.name} ${g.verdict}: ${samples}${interval}`;
}

/** An outcome as a person reads it, with the time left in the hold when holding. */
export function describeOutcome(plan: RolloutPlan, outcome: RolloutOutcome, now: number): string {
  const lines = [
    // an unchanged outcome's reason already ends "no change"
    `${outcome.action}: ${outcome.reason}`,
    describeRollout(plan, outcome.rollout),
  ];
  const step = plan.steps[outcome.rollout.step];
  if (outcome.rollout.status === 'running' && step !== undefined) {
    const left = Math.max(0, step.holdMs - (now - outcome.rollout.since));
    lines.push(`hold: ${formatDuration(left)} left of ${formatDuration(step.holdMs)}`);
  }
  for (const g of outcome.decision?.guardrails ?? []) lines.push(`  ${describeGuardrail(g)}`);
  return lines.join('\n');
}
