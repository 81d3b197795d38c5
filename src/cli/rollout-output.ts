import type { GuardrailVerdict } from '../rollout/decide.js';
import type { RolloutOutcome } from '../rollout/controller.js';
import { formatDuration } from '../rollout/duration.js';
import type { RolloutPlan } from '../rollout/plan.js';
import { readRollout, type StoredRollout } from '../rollout/state.js';
import { safeVariantOf } from '../rollout/transitions.js';
import type { FreezeView } from '../rollout/freeze.js';
import type { DeliveryView, FlagActionAnswer } from './rollout-admin.js';

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

/** A freeze's who, when and why: `frozen by oncall since … until …: INC-2`. */
export function frozenWords(freeze: FreezeView): string {
  const until = freeze.until === undefined ? ' until unfrozen' : ` until ${freeze.until}`;
  return `frozen by ${freeze.by || 'someone'} since ${freeze.since ?? '?'}${until}${freeze.reason ? `: ${freeze.reason}` : ''}`;
}

/** The freeze in a line: `freeze: frozen by oncall since … until …: INC-2`, `expired`, or `none`. */
export function describeFreezeView(freeze: FreezeView): string {
  if (!freeze.frozen && freeze.expired !== true) return 'freeze: none';
  return freeze.frozen
    ? `freeze: ${frozenWords(freeze)}`
    : `freeze: expired (was ${frozenWords(freeze)})`;
}

/** A rollout in a few words: `rollout r1 at 25 %`, `rollout r1 paused at 10 %`. */
function rolloutWords(rollout: StoredRollout): string {
  const status = rollout.status === 'running' ? '' : ` ${rollout.status}`;
  return `rollout ${rollout.id}${status} at ${rollout.percent} %`;
}

/** A flag's rollout, or undefined when it has none or its metadata is broken. */
function rolloutOf(flag: unknown): StoredRollout | undefined {
  try {
    return readRollout(flag);
  } catch {
    return undefined;
  }
}

/** What a flag serves: its rollout, its targeting, or one variant to everyone. */
export function describeServing(flag: Readonly<Record<string, unknown>>): string {
  const rollout = rolloutOf(flag);
  const variant = `'${String(flag['defaultVariant'])}'`;
  if (rollout !== undefined && rollout.status !== 'killed' && rollout.status !== 'rolled-back')
    return rolloutWords(rollout);
  if (flag['targeting'] !== undefined) return `targeting, default ${variant}`;
  return rollout === undefined
    ? `${variant} to everyone`
    : `${variant} to everyone, ${rolloutWords(rollout)}`;
}

const DONE: Readonly<Record<string, string>> = {
  kill: 'killed',
  rollback: 'rolled back',
  pause: 'paused',
  resume: 'resumed',
};

/**
 * What a kill, rollback, pause or resume did, from the server's answer and the flag as it was:
 * `killed checkout: serving 'off' to everyone (was: rollout r1 at 25 %)`, `no change: checkout
 * already killed`.
 */
export function describeFlagAction(
  answer: FlagActionAnswer,
  before: Readonly<Record<string, unknown>> | undefined,
): string {
  const done = DONE[answer.action] ?? answer.action;
  if (!answer.changed)
    return `no change: ${answer.flag} already ${answer.action === 'resume' ? 'running' : done}`;
  const was = before === undefined ? '' : ` (was: ${describeServing(before)})`;
  if (answer.action === 'kill' || answer.action === 'rollback')
    return `${done} ${answer.flag}: serving '${answer.safeVariant ?? '?'}' to everyone${was}`;
  const rollout = rolloutOf(before);
  const which =
    rollout === undefined ? 'its rollout' : `rollout ${rollout.id} at ${rollout.percent} %`;
  return `${done} ${answer.flag}: ${which} ${answer.action === 'pause' ? 'holds until resumed' : 'goes on'}`;
}

/** A flag's rollout, what it serves and its safe variant, for `status <flag>` without a plan. */
export function describeFlagStatus(key: string, flag: Readonly<Record<string, unknown>>): string {
  const rollout = readRollout(flag);
  const safe = safeVariantOf(flag);
  const lines = [
    rollout === undefined
      ? `flag ${key}: no rollout`
      : `flag ${key}: rollout ${rollout.id} ${rollout.status}, step ${rollout.step + 1} (${rollout.percent} %) since ${new Date(rollout.since).toISOString()}`,
    `serving: ${describeServing(flag)}; safe variant ${safe === undefined ? 'not set (kill needs --safe-variant)' : `'${safe}'`}`,
  ];
  return lines.join('\n');
}

const TRANSPORTS: Readonly<Record<string, string>> = {
  grpc: 'gRPC',
  sse: 'SSE',
  'ofrep-sse': 'OFREP SSE',
  'grpc-events': 'gRPC events',
  'connect-events': 'Connect events',
  'grpc-web-events': 'gRPC-Web events',
};

/** `gRPC 150/150, SSE 50/50`: the transports with streams open. */
function transportsOf(delivery: DeliveryView): string {
  const parts = Object.entries(delivery.transports)
    .filter(([, t]) => t.streams > 0)
    .map(([name, t]) => `${TRANSPORTS[name] ?? name} ${t.sent}/${t.streams}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** An elapsed time: `84 ms` under ten seconds, else `1m 5s`. */
const elapsed = (ms: number) => (ms < 10_000 ? `${Math.round(ms)} ms` : formatDuration(ms));

/**
 * Where the sending of a change stands: the final line when nothing is pending, else the progress
 * or, when `final`, what was left pending.
 */
export function describeDelivery(delivery: DeliveryView, ms: number, final: boolean): string {
  const sent = `${delivery.sent} of ${delivery.streams} sync streams${transportsOf(delivery)}`;
  if (delivery.pending === 0)
    return `sent to ${sent} in ${elapsed(ms)} — sent means written to the stream, not applied by the client`;
  return final
    ? `sent to ${sent} in ${elapsed(ms)}; ${delivery.pending} still pending — not every stream was sent the change in time`
    : `sending: ${sent}, ${delivery.pending} pending (${elapsed(ms)})`;
}
