import { childPath, isObject } from '../evaluator/json-path.js';
import { ruleText } from './rule-text.js';

/** A condition on the way to a cohort, and whether it holds there. */
export interface Condition {
  readonly rule: unknown;
  readonly holds: boolean;
}

/** One distinct branch of a flag's targeting: who lands there and the rule that decides for them. */
export interface Cohort {
  /** For people: `ring in ["internal", "beta"]`, `everyone else`, `a / everyone else`. */
  readonly label: string;
  /** Every `if` condition on the way, in order: the first that holds wins, as in JSON Logic. */
  readonly conditions: readonly Condition[];
  /** The JSON path of the rule that decides in this cohort. */
  readonly path: string;
  /** That rule (`null`: the flag's default variant). */
  readonly result: unknown;
}

/** Most cohorts listed; a deeper tree of `if`s is cut there (the rest stays one cohort). */
export const MAX_COHORTS = 32;

function ifArgs(node: unknown): unknown[] | undefined {
  if (!isObject(node) || Object.keys(node).length !== 1) return undefined;
  const raw = node['if'] ?? node['?:'];
  return Array.isArray(raw) && raw.length >= 2 ? raw : undefined;
}

function split(
  rule: unknown,
  path: string,
  above: readonly Condition[],
  prefix: string,
  out: Cohort[],
): void {
  const args = ifArgs(rule);
  if (args === undefined || out.length >= MAX_COHORTS) {
    out.push({ label: prefix === '' ? 'everyone' : prefix, conditions: above, path, result: rule });
    return;
  }
  const at = childPath(path, isObject(rule) && 'if' in rule ? 'if' : '?:');
  const failed: Condition[] = [];
  const join = (label: string) =>
    prefix === '' || (prefix.endsWith('everyone else') && label === 'everyone else')
      ? label === 'everyone else' && prefix !== ''
        ? prefix
        : label
      : `${prefix} / ${label}`;
  let i = 0;
  for (; i + 1 < args.length; i += 2) {
    const condition = { rule: args[i], holds: true };
    split(
      args[i + 1],
      childPath(at, i + 1),
      [...above, ...failed, condition],
      join(ruleText(args[i], 60)),
      out,
    );
    failed.push({ rule: args[i], holds: false });
  }
  // no else: JSON Logic's if gives null, the flag's default variant
  const otherwise = i < args.length ? args[i] : null;
  const where = i < args.length ? childPath(at, i) : at;
  split(otherwise, where, [...above, ...failed], join('everyone else'), out);
}

/**
 * The distinct branches of a targeting rule: one per `if` branch (nested `if`s in a branch split
 * it further), each with the conditions that lead to it. A rule without `if` is one cohort,
 * `everyone`. Pure.
 */
export function cohortsOf(targeting: unknown, path = 'targeting'): Cohort[] {
  const out: Cohort[] = [];
  split(targeting, path, [], '', out);
  return out;
}
