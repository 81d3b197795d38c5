import type { EstimateInterval, RawComparison } from './compare.js';
import { levelText, pIs, pText, signedNumber, signedPercent } from './format.js';
import type { MetricKind } from './types.js';

/** What a comparison shows, after Holm's correction. */
export type Outcome = 'better' | 'worse' | 'inconclusive' | 'no-data';

/** What the verdict of one comparison is made of. */
export interface VerdictInput {
  readonly metric: string;
  readonly kind: MetricKind;
  readonly lowerIsBetter: boolean;
  readonly raw: RawComparison;
  readonly alpha: number;
  /** Whether the decision is the sequential (anytime-valid) one, else the fixed-horizon one. */
  readonly sequential: boolean;
  /** The Holm-adjusted p-value of the test decided on. */
  readonly adjusted: number | undefined;
  /** How many comparisons Holm's correction is over. */
  readonly family: number;
}

/** The interval the verdict quotes: the relative lift's (sequential, if deciding so), else the absolute one. */
function quoted(
  input: VerdictInput,
): { interval: EstimateInterval; relative: boolean } | undefined {
  const { raw, sequential } = input;
  const relative = sequential ? raw.sequential?.relative : raw.relative;
  if (relative !== undefined) return { interval: relative, relative: true };
  return raw.absolute && { interval: raw.absolute, relative: false };
}

function numbers(input: VerdictInput): string {
  const q = quoted(input);
  if (q === undefined) return '';
  const fmt = (v: number) =>
    q.relative || input.kind === 'conversion'
      ? signedPercent(v, q.relative ? 1 : 2)
      : signedNumber(v);
  const unit = q.relative ? '' : input.kind === 'conversion' ? ' points' : ' per user';
  const { estimate, low, high } = q.interval;
  const raw = input.sequential ? input.raw.sequential?.pValue : input.raw.fixed?.pValue;
  const label = input.sequential ? 'sequential p' : 'p';
  const holm =
    input.family > 1 && input.adjusted !== undefined ? ` (Holm ${pText(input.adjusted)})` : '';
  return `${fmt(estimate)}${unit} (${levelText(input.alpha)} CI ${fmt(low)} … ${fmt(high)}), ${label} ${pIs(raw ?? Number.NaN)}${holm}`;
}

/** The outcome: significant after Holm's correction, in the direction the estimate points. */
export function outcomeOf(input: VerdictInput): Outcome {
  if (input.adjusted === undefined || quoted(input) === undefined) return 'no-data';
  if (!(input.adjusted < input.alpha)) return 'inconclusive';
  const up = (quoted(input)?.interval.estimate ?? 0) > 0;
  return up !== input.lowerIsBetter ? 'better' : 'worse';
}

/**
 * The plain verdict, e.g. `B better than A on purchase: +4.1 % (95 % CI +1.2 % … +7.0 %),
 * sequential p = 0.01`. The lift is relative (treatment / control − 1) where the control's rate or
 * mean is positive, else absolute.
 */
export function verdictText(input: VerdictInput, outcome: Outcome): string {
  const { raw, metric } = input;
  const a = raw.control.variant;
  const b = raw.treatment.variant;
  switch (outcome) {
    case 'better':
    case 'worse':
      return `${b} ${outcome} than ${a} on ${metric}: ${numbers(input)}`;
    case 'inconclusive':
      return `${b} vs ${a} on ${metric}: no significant difference: ${numbers(input)}`;
    case 'no-data': {
      const thin = [raw.control, raw.treatment].find(
        (v) => v.users < (input.kind === 'mean' ? 2 : 1),
      );
      if (thin !== undefined)
        return `${b} vs ${a} on ${metric}: not enough data (${thin.users} users in ${thin.variant})`;
      const base = raw.control.value?.estimate ?? 0;
      const value = base < 0 ? `${signedNumber(base)} (not above 0)` : '0';
      return `${b} vs ${a} on ${metric}: no relative lift while ${a}'s ${input.kind === 'mean' ? 'mean' : 'rate'} is ${value}`;
    }
  }
}

/**
 * A warning when the fixed-horizon test and the anytime-valid one disagree (each at α, before
 * correction): a fixed-horizon p-value read before the planned sample size (peeking) overstates
 * the evidence.
 */
export function peekingWarning(input: VerdictInput): string | undefined {
  const { raw, alpha, metric } = input;
  if (raw.fixed === undefined || raw.sequential === undefined) return undefined;
  const fixed = raw.fixed.pValue < alpha;
  const sequential = raw.sequential.pValue < alpha;
  if (fixed === sequential) return undefined;
  const pair = `${raw.treatment.variant} vs ${raw.control.variant} on ${metric}`;
  const ps = `fixed-horizon p ${pIs(raw.fixed.pValue)}, sequential p ${pIs(raw.sequential.pValue)}`;
  return fixed
    ? `${pair}: significant at a fixed horizon but not by the anytime-valid test (${ps}). The fixed-horizon p-value holds only if this is the one look planned in advance at the planned sample size; if the results were looked at before (peeking), trust the sequential one and keep the experiment running.`
    : `${pair}: significant by the anytime-valid test but not at a fixed horizon (${ps}): a borderline result (the two tests estimate the variance differently).`;
}
