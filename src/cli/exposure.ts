import { createEvaluator, type EvaluationResult, type Evaluator } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { bucketsOf } from './flag-checks.js';
import { cohortsOf, type Cohort } from './cohorts.js';
import { attributeValues, bucketingAttributes, generateSubjects } from './population.js';
import { ruleText } from './rule-text.js';

type Json = Record<string, unknown>;

/** One variant's share of a cohort; `weight` when it comes from the `fractional` weights. */
export interface Share {
  /** The variant, or `(default value)` (the caller's) or `(error)`. */
  readonly variant: string;
  readonly share: number;
  readonly weight?: number;
}

/** How a cohort's exact shares follow from the rule. */
export type Basis = 'static' | 'disabled' | 'by-name' | 'default' | 'weights';

/** Who gets what in one cohort: exactly, from the rule, where it says; and as measured. */
export interface CohortExposure {
  readonly label: string;
  /** JSON path of the rule that decides in this cohort. */
  readonly path: string;
  /** That rule, for people. */
  readonly rule: string;
  readonly exact?: {
    readonly basis: Basis;
    readonly shares: readonly Share[];
    readonly total?: number;
  };
  /** The generated subjects that landed in the cohort, and what they got. */
  readonly sample: { readonly n: number; readonly shares: readonly Share[] };
}

/** A flag's exposure per cohort, with the generated population it was measured on. */
export interface Exposure {
  readonly cohorts: readonly CohortExposure[];
  readonly sample: { readonly size: number; readonly seed: number };
}

/** What a result counts as: its variant, the caller's default value, or an error. */
export function outcomeLabel(result: EvaluationResult<unknown>): string {
  if (result.reason === 'ERROR') return '(error)';
  return result.variant ?? '(default value)';
}

/** The exact shares of a cohort's rule, when the rule alone says who gets what. */
function exactOf(result: unknown, flag: Json): CohortExposure['exact'] {
  const variants = isObject(flag['variants']) ? flag['variants'] : {};
  const named = (v: string) => (Object.hasOwn(variants, v) ? v : '(error)');
  if (typeof result === 'string' || typeof result === 'number' || typeof result === 'boolean')
    return { basis: 'by-name', shares: [{ variant: named(String(result)), share: 1 }] };
  if (result === null || result === undefined) {
    const fallback = flag['defaultVariant'];
    const variant = typeof fallback === 'string' && fallback !== '' ? fallback : '(default value)';
    return { basis: 'default', shares: [{ variant, share: 1 }] };
  }
  const op =
    isObject(result) && Object.keys(result).length === 1 ? Object.keys(result)[0] : undefined;
  if (op !== 'fractional' && op !== 'fractionalEvaluation') return undefined;
  const raw = (result as Json)[op];
  const { buckets } = bucketsOf(Array.isArray(raw) ? raw : [raw]);
  const rows: [string, number][] = [];
  for (const bucket of buckets) {
    if (!Array.isArray(bucket) || bucket.length === 0) return undefined;
    const weight: unknown = bucket.length > 1 && bucket[1] !== null ? bucket[1] : 1;
    if (typeof bucket[0] !== 'string' || !Number.isInteger(weight)) return undefined;
    rows.push([bucket[0], Math.max(0, weight as number)]);
  }
  const total = rows.reduce((sum, [, w]) => sum + w, 0);
  if (total === 0) return undefined;
  const shares = rows.map(([variant, weight]) => ({
    variant: named(variant),
    share: weight / total,
    weight,
  }));
  return { basis: 'weights', shares, total };
}

/** Whether a condition holds for a context: the same `if` the flag's rule runs, alone. */
function conditionTester(key: string, rule: unknown): (context: Json) => boolean {
  const evaluator = createEvaluator();
  try {
    evaluator.setConfiguration({
      flags: {
        [key]: {
          state: 'ENABLED',
          variants: { t: true, f: false },
          defaultVariant: 'f',
          targeting: { if: [rule, 't', 'f'] },
        },
      },
    });
  } catch {
    return () => false;
  }
  return (context) => evaluator.resolveValue(key, context).variant === 't';
}

/** The cohort each context lands in (the first whose conditions all hold). */
function cohortFinder(key: string, cohorts: readonly Cohort[]): (context: Json) => number {
  const testers = new Map<unknown, (context: Json) => boolean>();
  for (const cohort of cohorts)
    for (const { rule } of cohort.conditions)
      if (!testers.has(rule)) testers.set(rule, conditionTester(key, rule));
  return (context) => {
    const memo = new Map<unknown, boolean>();
    const holds = (rule: unknown) => {
      let value = memo.get(rule);
      if (value === undefined)
        memo.set(rule, (value = (testers.get(rule) as (c: Json) => boolean)(context)));
      return value;
    };
    const index = cohorts.findIndex((c) =>
      c.conditions.every((cond) => holds(cond.rule) === cond.holds),
    );
    return index === -1 ? cohorts.length - 1 : index;
  };
}

function sharesOf(
  counts: ReadonlyMap<string, number>,
  n: number,
  order: readonly string[],
): Share[] {
  const rank = (v: string) => (order.includes(v) ? order.indexOf(v) : order.length);
  return [...counts]
    .sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1])
    .map(([variant, count]) => ({ variant, share: count / n }));
}

/**
 * A flag's exposure per cohort (each distinct branch of its targeting): exact where the rule says
 * (a variant by name, the default, `fractional` weights), and measured on `samples` generated
 * subjects (seeded) whose attributes exercise the rule's conditions. The measured shares are
 * estimates; the cohorts' sizes depend on the generated mix, not on real traffic.
 */
export function exposureOf(
  evaluator: Evaluator,
  key: string,
  flag: Json,
  options: { readonly samples: number; readonly seed: number },
): Exposure {
  const sample = { size: options.samples, seed: options.seed };
  const targeting = flag['targeting'];
  const everyone = (basis: Basis, variant: string): Exposure => ({
    cohorts: [
      {
        label: 'everyone',
        path: 'state',
        rule: basis,
        exact: { basis, shares: [{ variant, share: 1 }] },
        sample: { n: 0, shares: [] },
      },
    ],
    sample: { size: 0, seed: options.seed },
  });
  if (flag['state'] === 'DISABLED') return everyone('disabled', '(default value)');
  if (targeting === undefined || (isObject(targeting) && Object.keys(targeting).length === 0)) {
    const fallback = flag['defaultVariant'];
    return everyone(
      'static',
      typeof fallback === 'string' && fallback !== '' ? fallback : '(default value)',
    );
  }
  const cohorts = cohortsOf(targeting);
  const find = cohortFinder(key, cohorts);
  const counts = cohorts.map(() => new Map<string, number>());
  const sizes = cohorts.map(() => 0);
  for (const subject of generateSubjects(
    options.samples,
    options.seed,
    attributeValues(targeting),
    bucketingAttributes(targeting),
  )) {
    const index = find(subject);
    const label = outcomeLabel(evaluator.resolveValue(key, subject));
    const count = counts[index] as Map<string, number>;
    count.set(label, (count.get(label) ?? 0) + 1);
    sizes[index] = (sizes[index] as number) + 1;
  }
  const order = Object.keys(isObject(flag['variants']) ? flag['variants'] : {});
  return {
    cohorts: cohorts.map((cohort, i) => {
      const exact = exactOf(cohort.result, flag);
      const n = sizes[i] as number;
      return {
        label: cohort.label,
        path: cohort.path,
        rule: ruleText(cohort.result),
        ...(exact === undefined ? {} : { exact }),
        sample: { n, shares: sharesOf(counts[i] as Map<string, number>, n, order) },
      };
    }),
    sample,
  };
}
