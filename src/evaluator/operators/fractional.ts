import type { Env, FractionalDecision, Operator, Rule } from '../rule.js';
import { bucketOf, murmur3 } from '../murmur3.js';
import { typeName } from '../json-path.js';

const MAX_WEIGHT = 2147483647;

/** A parsed bucket list: variants, their weights and cumulative range ends. */
interface Table {
  readonly variants: readonly unknown[];
  readonly weights: readonly number[];
  readonly ends: readonly number[];
  readonly total: number;
}

/** Parses evaluated buckets `[[variant, weight?], …]` per flagd v2; a string says what is wrong. */
function parseBuckets(buckets: readonly unknown[]): Table | string {
  if (buckets.length === 0) return 'no buckets';
  const variants: unknown[] = [];
  const weights: number[] = [];
  const ends: number[] = [];
  let total = 0;
  for (const [i, bucket] of buckets.entries()) {
    if (!Array.isArray(bucket) || bucket.length === 0)
      return `bucket ${i} is not [variant, weight]`;
    const variant: unknown = bucket[0];
    if (variant !== null && !['string', 'number', 'boolean'].includes(typeof variant)) {
      return `bucket ${i}: a variant cannot be ${typeName(variant)}`;
    }
    let weight: unknown = bucket.length > 1 ? bucket[1] : 1;
    if (weight === null) weight = 1;
    if (typeof weight !== 'number' || !Number.isInteger(weight)) {
      return `bucket ${i}: weight ${JSON.stringify(weight)} is not an integer`;
    }
    if (weight > MAX_WEIGHT) return `bucket ${i}: weight exceeds ${MAX_WEIGHT}`;
    total += Math.max(0, weight);
    if (total > MAX_WEIGHT) return `the weights add up to more than ${MAX_WEIGHT}`;
    variants.push(variant);
    weights.push(Math.max(0, weight));
    ends.push(total);
  }
  if (total === 0) return 'all weights are zero';
  return { variants, weights, ends, total };
}

/**
 * The targeting key when it makes a valid implicit bucketing key (`flagKey + targetingKey`): any
 * string, the empty one too (flagd Go and Java bucket `""` on the flag key alone; flagd-core JS
 * returns `null` there, a divergence flagd-spec §b.6.2 says not to follow). @internal
 */
export function targetingKeyOf(env: Env): string | null {
  const root = env.root as { targetingKey?: unknown } | null | undefined;
  const key = root === null || root === undefined ? undefined : root.targetingKey;
  return typeof key === 'string' ? key : null;
}

/** Picks the bucket of the key `prefix + suffix`. */
function pick(table: Table, prefix: string, suffix: string, env: Env, path: string): unknown {
  const hash = murmur3(prefix, suffix);
  const bucket = bucketOf(hash, table.total);
  const { ends, variants } = table;
  let index = 0;
  while (bucket >= (ends[index] as number)) index++;
  const variant = variants[index];
  if (env.trace !== undefined) {
    env.trace.push(decision(table, prefix + suffix, hash, bucket, variant, path));
  }
  return variant;
}

function decision(
  table: Table,
  bucketingKey: string,
  hash: number,
  bucket: number,
  variant: unknown,
  path: string,
): { kind: 'fractional'; path: string } & FractionalDecision {
  const buckets = table.variants.map((v, i) => ({
    variant: v,
    weight: table.weights[i] as number,
    rangeEnd: table.ends[i] as number,
  }));
  return {
    kind: 'fractional',
    path,
    bucketingKey,
    hash,
    totalWeight: table.total,
    bucket,
    buckets,
    variant,
  };
}

/**
 * `fractional`: sticky percentage buckets. The key is the first argument when it evaluates to a
 * string, else `flagKey + targetingKey`; MurmurHash3 of its UTF-8 bytes picks a bucket
 * `floor(hash * total / 2^32)`. Invalid buckets or a missing key give `null`. A literal bucket list
 * is parsed into its cumulative weight table once, at compile time.
 */
const fractional: Operator = {
  compile(args, scope) {
    const hasKeyRule = args.length > 0 && !Array.isArray(args[0]);
    const keyRule = hasKeyRule ? scope.compile(args[0], `${scope.path}[0]`) : undefined;
    const offset = hasKeyRule ? 1 : 0;
    const bucketRules = scope.compileAll(args.slice(offset), offset);
    const literal = scope.constantsOf(bucketRules);
    const fixed = literal === undefined ? undefined : parseBuckets(literal);
    if (typeof fixed === 'string') scope.warn(`${scope.path}: ${fixed}; it always yields null`);
    const path = scope.tracing ? scope.path : '';
    if (fixed !== undefined && typeof fixed !== 'string') {
      // The common cases: a literal bucket table, keyed by an expression or implicitly.
      const table = fixed;
      if (keyRule === undefined) {
        return (_data, env) => {
          const targetingKey = targetingKeyOf(env);
          return targetingKey === null ? null : pick(table, env.flagKey, targetingKey, env, path);
        };
      }
      // Rare: the key expression gave null (use the targeting key) or an array (a bucket).
      const slow = dynamic(keyRule, () => bucketsOf(table), table, path);
      return (data, env) => {
        const key = keyRule(data, env);
        return typeof key === 'string' ? pick(table, key, '', env, path) : slow(data, env);
      };
    }
    return dynamic(keyRule, evaluateAll(bucketRules), fixed, path);
  },
};

/** A parsed table back as bucket entries (negative weights were clamped, to the same effect). */
function bucketsOf(table: Table): unknown[][] {
  return table.variants.map((variant, i) => [variant, table.weights[i]]);
}

/** The general `fractional`: any key value, bucket lists computed per evaluation. */
function dynamic(
  keyRule: Rule | undefined,
  buckets: (data: unknown, env: Env) => unknown[],
  fixed: Table | string | undefined,
  path: string,
): Rule {
  return (data, env) => {
    let prefix = env.flagKey; // the implicit key is flagKey + targetingKey
    let suffix: string | null;
    let extra: unknown[] | undefined;
    const value = keyRule === undefined ? null : keyRule(data, env);
    if (typeof value === 'string') {
      prefix = value;
      suffix = '';
    } else if (value === null) suffix = targetingKeyOf(env);
    else if (Array.isArray(value)) {
      extra = [value]; // it was a bucket after all
      suffix = targetingKeyOf(env);
    } else {
      env.logger.debug(`fractional: a bucketing key must be a string, got ${typeName(value)}`);
      return null;
    }
    if (suffix === null) return null;
    const table =
      fixed !== undefined && extra === undefined
        ? fixed
        : parseBuckets([...(extra ?? []), ...buckets(data, env)]);
    if (typeof table === 'string') {
      env.logger.debug(`fractional: ${table}`);
      return null;
    }
    return pick(table, prefix, suffix, env, path);
  };
}

/** The buckets computed per evaluation (weights or variants given by rules). */
function evaluateAll(rules: readonly Rule[]): (data: unknown, env: Env) => unknown[] {
  return (data, env) => rules.map((rule) => rule(data, env));
}

/** The legacy `fractionalEvaluation`: a bare property name as the first argument. */
const fractionalEvaluation: Operator = {
  compile(args, scope) {
    scope.warn(`${scope.path}: "fractionalEvaluation" is deprecated; use "fractional"`);
    const first = args[0];
    const rewritten = typeof first === 'string' ? [{ var: first }, ...args.slice(1)] : args;
    return fractional.compile(rewritten, scope);
  },
};

/** @internal */
export const fractionalOperators: Readonly<Record<string, Operator>> = {
  fractional,
  fractionalEvaluation,
};
