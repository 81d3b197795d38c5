import type { Explanation, FractionalDecision } from '../evaluator/index.js';
import { childPath, isObject } from '../evaluator/json-path.js';
import { flipOf, flipSentence, treatmentOf, type Flip } from './flip.js';
import { pathSegments } from './json-location.js';
import { percentText, ruleText } from './rule-text.js';

type Json = Record<string, unknown>;

/** One step of the rule path: an operator, the rule it is, and what it evaluated to. */
export interface ExplainedStep {
  /** Its path in the flag, e.g. `targeting.if[0]`. */
  readonly path: string;
  readonly operator: string;
  readonly rule: string;
  readonly result: unknown;
}

/** One `fractional` decision, with how its bucketing key was made and where the subject flips. */
export interface ExplainedFractional extends FractionalDecision {
  readonly path: string;
  /** `rule`: the rule's bucketing expression; `implicit`: flag key + targetingKey. */
  readonly keySource: 'rule' | 'implicit';
  readonly flip: Flip;
  readonly sentence: string;
}

/** What `rampflag eval --explain` shows, beyond the resolution. */
export interface ExplainedEvaluation {
  readonly steps: readonly ExplainedStep[];
  readonly fractional: readonly ExplainedFractional[];
  /** Things worth knowing: a fractional without a key, the flag disabled, … */
  readonly notes: readonly string[];
}

/** The node at `path` (relative to the flag), or undefined. */
function nodeAt(flag: Json, path: string): unknown {
  let node: unknown = flag;
  for (const segment of pathSegments(path) ?? []) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isObject(node) && Object.hasOwn(node, String(segment))) node = node[String(segment)];
    else return undefined;
  }
  return node;
}

/**
 * The explanation of one evaluation, for people and programs: each step's rule and value, each
 * fractional's key, hash, bucket and weight table, and where this subject flips. `flag` is the
 * flag as served (shared evaluators inlined), `safeVariant` the rollout's, `treatment` the
 * variant to compute the flip point for (else guessed: {@link treatmentOf}).
 */
export function explainEvaluation(
  explanation: Explanation,
  flag: Json,
  context: Json,
  options: { readonly safeVariant?: string; readonly treatment?: string },
): ExplainedEvaluation {
  const prefix = childPath('flags', explanation.flagKey);
  const relative = (path: string) =>
    path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : path;
  const steps = explanation.steps.map((step) => {
    const path = relative(step.path);
    return {
      path,
      operator: step.operator,
      rule: ruleText(nodeAt(flag, path), 70),
      result: step.result,
    };
  });
  const subject = typeof context['targetingKey'] === 'string' ? context['targetingKey'] : undefined;
  const fractional = explanation.fractional.map((decision): ExplainedFractional => {
    const path = relative(decision.path);
    const args = nodeAt(flag, path);
    const keySource =
      Array.isArray(args) && args.length > 0 && !Array.isArray(args[0]) ? 'rule' : 'implicit';
    const fallback = flag['defaultVariant'];
    const treatment = treatmentOf(
      decision,
      [options.safeVariant, typeof fallback === 'string' ? fallback : undefined],
      options.treatment,
    );
    const flip = flipOf(decision, treatment);
    // the subject by its targeting key when that is what it is bucketed by, else by its key
    const byTargetingKey = keySource === 'implicit' || decision.bucketingKey === subject;
    const who = byTargetingKey && subject !== undefined ? subject : `"${decision.bucketingKey}"`;
    return { ...decision, path, keySource, flip, sentence: flipSentence(who, decision, flip) };
  });
  const notes: string[] = [];
  if (explanation.state === 'DISABLED')
    notes.push('the flag is DISABLED: its targeting is not evaluated');
  const unkeyed = steps.filter(
    (s) =>
      (s.operator === 'fractional' || s.operator === 'fractionalEvaluation') && s.result === null,
  );
  if (unkeyed.length > 0 && subject === undefined)
    notes.push(
      'a fractional yielded null: the context has no targetingKey to bucket by (give one with --targeting-key)',
    );
  return { steps, fractional, notes };
}

/** A fractional's weight table as rows: variant, weight, share, bucket range, and this subject. */
export function weightRows(decision: FractionalDecision): (string | number)[][] {
  let start = 0;
  return decision.buckets.map((b) => {
    const range =
      b.weight === 0
        ? '(none)'
        : `${start.toLocaleString('en-US')} – ${(b.rangeEnd - 1).toLocaleString('en-US')}`;
    const here = decision.bucket >= start && decision.bucket < b.rangeEnd ? '← this subject' : '';
    start = b.rangeEnd;
    return [String(b.variant), b.weight, percentText(b.weight / decision.totalWeight), range, here];
  });
}
