import { childPath, isObject } from '../evaluator/json-path.js';
import type { PlanIssue, RolloutPlan, RolloutStep } from './plan.js';

type Json = Record<string, unknown>;

/** The total of the `fractional` weights a rollout writes: fine enough for 0.1 % steps. */
export const WEIGHT_TOTAL = 1000;

/** Where a flag's one `fractional` sits, and what it holds. */
interface Fractional {
  /** Its path in the targeting, as keys and indexes. */
  readonly at: readonly (string | number)[];
  /** The bucketing expression, when the rule names one. */
  readonly key: unknown;
  readonly buckets: readonly (readonly [string, number])[];
}

/** Every `fractional` in a rule, with its path. */
function fractionals(
  rule: unknown,
  at: (string | number)[] = [],
  found: Fractional[] = [],
): Fractional[] {
  if (Array.isArray(rule)) rule.forEach((item, i) => fractionals(item, [...at, i], found));
  else if (isObject(rule)) {
    for (const [op, args] of Object.entries(rule)) {
      if (op === 'fractional' && Array.isArray(args)) {
        const keyed = args.length > 0 && !Array.isArray(args[0]);
        const buckets = (keyed ? args.slice(1) : args).map((bucket): [string, number] =>
          Array.isArray(bucket)
            ? [String(bucket[0]), typeof bucket[1] === 'number' ? bucket[1] : 1]
            : ['', 0],
        );
        found.push({ at: [...at, op], key: keyed ? args[0] : undefined, buckets });
      }
      fractionals(args, [...at, op], found);
    }
  }
  return found;
}

const pathOf = (at: readonly (string | number)[]) =>
  at.reduce<string>((p, k) => childPath(p, k), 'targeting');

/**
 * Whether `flag` can carry `plan`: its variants hold the treatment, the control and the safe variant;
 * its targeting has exactly one `fractional` over the treatment and the control, the treatment's
 * bucket first once it has weight (so raising its weight only ever adds users), or no targeting at
 * all (the rollout writes the seed's shape). Every problem by its path in the flag.
 */
export function checkPlanAgainstFlag(plan: RolloutPlan, flag: unknown): PlanIssue[] {
  const issues: PlanIssue[] = [];
  if (!isObject(flag)) return [{ path: `flags.${plan.flag}`, message: 'no such flag' }];
  const variants = isObject(flag['variants']) ? flag['variants'] : {};
  for (const [role, name] of [
    ['treatment', plan.treatment],
    ['control', plan.control],
    ['safeVariant', plan.safeVariant],
  ] as const)
    if (!Object.hasOwn(variants, name))
      issues.push({
        path: role,
        message: `the flag has no variant "${name}" (it has ${Object.keys(variants).join(', ')})`,
      });
  const targeting = flag['targeting'];
  if (targeting === undefined || (isObject(targeting) && Object.keys(targeting).length === 0))
    return issues;
  const found = fractionals(targeting);
  if (found.length !== 1) {
    issues.push({
      path: 'targeting',
      message: `a rollout needs exactly one fractional in the flag's targeting; it has ${found.length}`,
    });
    return issues;
  }
  if (plan.rings === undefined && servesByName(targeting, plan.treatment))
    issues.push({
      path: 'targeting',
      message: `the targeting serves "${plan.treatment}" by name outside the fractional: declare those users as rings in the plan, so they are judged on their own and not mixed into the comparison`,
    });
  if (plan.rings !== undefined && !hasRingRule(targeting, plan.rings.attribute))
    issues.push({
      path: 'targeting',
      message: `the plan has rings, but the targeting has no {"in": [{"var": "${plan.rings.attribute}"}, [...]]} rule`,
    });
  const { buckets, at } = found[0] as Fractional;
  const names = buckets.map(([name]) => name).sort();
  if (names.join() !== [plan.control, plan.treatment].sort().join())
    issues.push({
      path: pathOf(at),
      message: `the fractional must split "${plan.treatment}" and "${plan.control}" alone; it splits ${buckets.map(([n]) => `"${n}"`).join(', ')}`,
    });
  else if (
    buckets[0]?.[0] !== plan.treatment &&
    (buckets.find(([n]) => n === plan.treatment)?.[1] ?? 0) > 0
  )
    issues.push({
      path: pathOf(at),
      message: `"${plan.treatment}" has weight but is not the first bucket: moving it would move users between variants`,
    });
  return issues;
}

/** The share (%) of bucketed users the flag's one `fractional` gives the treatment now; 0 without. */
export function treatmentShare(plan: RolloutPlan, flag: Json): number {
  const found = flag['targeting'] === undefined ? [] : fractionals(flag['targeting']);
  const buckets = found.length === 1 ? (found[0] as Fractional).buckets : [];
  const total = buckets.reduce((n, [, weight]) => n + weight, 0);
  const mine = buckets.find(([name]) => name === plan.treatment)?.[1] ?? 0;
  return total > 0 ? Math.round((mine / total) * 1000) / 10 : 0;
}

/** The flag's targeting at `step` (or before the first step when undefined). */
export function targetingAt(plan: RolloutPlan, flag: Json, step: RolloutStep | undefined): unknown {
  const percent = step?.kind === 'percent' ? step.percent : 0;
  const weight = Math.round((percent * WEIGHT_TOTAL) / 100);
  const existing = flag['targeting'];
  const found = existing === undefined ? [] : fractionals(existing);
  const key = found[0]?.key;
  const fractional = {
    fractional: [
      ...(key === undefined ? [] : [key]),
      [plan.treatment, weight],
      [plan.control, WEIGHT_TOTAL - weight],
    ],
  };
  const rings =
    step?.kind === 'ring' ? step.rings : step === undefined ? [] : (plan.rings?.stages ?? []);
  if (found.length === 0) {
    // the seed's shape: the rings first, then everyone else by bucket
    if (plan.rings === undefined) return fractional;
    return {
      if: [{ in: [{ var: plan.rings.attribute }, [...rings]] }, plan.treatment, fractional],
    };
  }
  const replaced = replaceAt(existing, (found[0] as Fractional).at, fractional['fractional']);
  return plan.rings === undefined ? replaced : replaceRings(replaced, plan.rings.attribute, rings);
}

/** `rule` with the value at `at` replaced. */
function replaceAt(rule: unknown, at: readonly (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const [head, ...rest] = at;
  if (Array.isArray(rule))
    return rule.map((item, i) => (i === head ? replaceAt(item, rest, value) : item));
  if (isObject(rule))
    return Object.fromEntries(
      Object.entries(rule).map(([k, v]) => [k, k === head ? replaceAt(v, rest, value) : v]),
    );
  return rule;
}

/** Whether `args` are a ring rule's: `[{"var": attribute}, [ring, …]]`. */
const isRingRule = (args: unknown, attribute: string): args is [Json, unknown[]] =>
  Array.isArray(args) &&
  isObject(args[0]) &&
  args[0]['var'] === attribute &&
  Array.isArray(args[1]);

/** Whether `rule`, its `fractional` aside, names `variant` (a branch serving it by name). */
function servesByName(rule: unknown, variant: string): boolean {
  if (rule === variant) return true;
  if (Array.isArray(rule)) return rule.some((item) => servesByName(item, variant));
  if (!isObject(rule)) return false;
  return Object.entries(rule).some(
    ([op, args]) => op !== 'fractional' && servesByName(args, variant),
  );
}

/** Whether `rule` has a ring rule over `attribute` to promote the stages with. */
function hasRingRule(rule: unknown, attribute: string): boolean {
  if (Array.isArray(rule)) return rule.some((item) => hasRingRule(item, attribute));
  if (!isObject(rule)) return false;
  return (
    isRingRule(rule['in'], attribute) || Object.values(rule).some((v) => hasRingRule(v, attribute))
  );
}

/** `rule` with the list of every `{"in": [{"var": attribute}, [...]]}` set to `rings`. */
function replaceRings(rule: unknown, attribute: string, rings: readonly string[]): unknown {
  if (Array.isArray(rule)) return rule.map((item) => replaceRings(item, attribute, rings));
  if (!isObject(rule)) return rule;
  const args = rule['in'];
  if (
    Array.isArray(args) &&
    isObject(args[0]) &&
    args[0]['var'] === attribute &&
    Array.isArray(args[1])
  )
    return { ...rule, in: [args[0], [...rings]] };
  return Object.fromEntries(
    Object.entries(rule).map(([k, v]) => [k, replaceRings(v, attribute, rings)]),
  );
}
