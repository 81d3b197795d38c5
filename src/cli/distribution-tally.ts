import { createEvaluator, type Evaluator } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { fractionalsIn, mapFractionals, type FractionalNode } from './fractionals.js';
import { variantLabel } from './variant-label.js';

type Json = Record<string, unknown>;

/** The most cohorts told apart; subjects of further ones count as `(other)`. */
export const MAX_COHORTS = 1_000;

/**
 * A copy of a flag that tells which `fractional` bucket each subject landed in: every literal
 * bucket's variant is renamed `__rampflag_split_<k>_<i>` (same value), so a result naming one says
 * the subject was split by fractional `k` into bucket `i`. Hashes, weights and every other branch
 * are untouched, so a subject lands exactly where it does under the real flag.
 */
export interface SplitProbe {
  readonly evaluator: Evaluator;
  /** The fractionals probed (those with literal buckets), by `k`. */
  readonly splits: readonly FractionalNode[];
}

const PROBE = /^__rampflag_split_(\d+)_(\d+)$/;

/** The probe for `flag`, or `undefined` when it has no fractional with literal buckets. */
export function splitProbe(flagKey: string, flag: Json): SplitProbe | undefined {
  const variants = isObject(flag['variants']) ? flag['variants'] : {};
  const fallback = Object.values(variants)[0] ?? null;
  const probeVariants: Json = { ...variants };
  const splits: FractionalNode[] = [];
  const targeting = mapFractionals(flag['targeting'], (node, operator) => {
    if (node.buckets === undefined) return operator;
    const k = splits.length;
    splits.push(node);
    const buckets = node.buckets.map((bucket, i) => {
      const name = `__rampflag_split_${k}_${i}`;
      probeVariants[name] = Object.hasOwn(variants, bucket.variant)
        ? variants[bucket.variant]
        : fallback;
      return [name, bucket.weight];
    });
    return { fractional: node.key === undefined ? buckets : [node.key, ...buckets] };
  });
  if (splits.length === 0) return undefined;
  const evaluator = createEvaluator();
  try {
    evaluator.setConfiguration({
      flags: { [flagKey]: { ...flag, variants: probeVariants, targeting } },
    });
  } catch {
    return undefined; // the real flag still evaluates; only the configured shares are missing
  }
  return { evaluator, splits };
}

/** What the subjects got. */
export interface Tally {
  readonly total: number;
  /** Subjects per variant label (see `variantLabel`), in first-seen order. */
  readonly variants: ReadonlyMap<string, number>;
  /** Subjects per cohort, then per variant label; `undefined` without a cohort attribute. */
  readonly cohorts: ReadonlyMap<string, ReadonlyMap<string, number>> | undefined;
  /** Per probed fractional (by `k`), the subjects it split, per bucket. */
  readonly splitCounts: readonly (readonly number[])[];
  /** The first evaluation error's message, if any subject got one. */
  readonly firstError: string | undefined;
}

/** A context's value of `attribute` (an own property, else a dotted path) as a cohort name. */
export function cohortOf(context: Json, attribute: string): string {
  let value: unknown = Object.hasOwn(context, attribute) ? context[attribute] : undefined;
  if (value === undefined && attribute.includes('.')) {
    value = context;
    for (const part of attribute.split('.'))
      value = isObject(value) && Object.hasOwn(value, part) ? value[part] : undefined;
  }
  if (value === undefined || value === null) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Counts what `flagKey` gives each subject added, per variant, cohort and fractional bucket. */
export function tallier(
  evaluator: Evaluator,
  flagKey: string,
  probe: SplitProbe | undefined,
  cohort: string | undefined,
): { add(context: Json): void; tally(): Tally } {
  let total = 0;
  let firstError: string | undefined;
  const variants = new Map<string, number>();
  const cohorts = cohort === undefined ? undefined : new Map<string, Map<string, number>>();
  const splitCounts = (probe?.splits ?? []).map((s) =>
    new Array<number>(s.buckets?.length ?? 0).fill(0),
  );
  return {
    add(context) {
      total++;
      const result = evaluator.resolveValue(flagKey, context);
      const label = variantLabel(result);
      if (result.reason === 'ERROR') firstError ??= result.errorMessage;
      bump(variants, label);
      if (cohorts !== undefined && cohort !== undefined) {
        let name = cohortOf(context, cohort);
        if (!cohorts.has(name) && cohorts.size >= MAX_COHORTS) name = '(other)';
        let group = cohorts.get(name);
        if (group === undefined) cohorts.set(name, (group = new Map()));
        bump(group, label);
      }
      const split = probe?.evaluator.resolveValue(flagKey, context).variant;
      const match = split === undefined ? null : PROBE.exec(split);
      if (match !== null) {
        const counts = splitCounts[Number(match[1])];
        if (counts !== undefined) counts[Number(match[2])] = (counts[Number(match[2])] ?? 0) + 1;
      }
    },
    tally: () => ({ total, variants, cohorts, splitCounts, firstError }),
  };
}

/** The fractionals of a flag whose weights are rules, so no share is configured up front. */
export function dynamicSplits(flag: Json): FractionalNode[] {
  return fractionalsIn(flag['targeting']).filter((node) => node.buckets === undefined);
}
