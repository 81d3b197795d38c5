import type { Env, Operator, Rule } from '../rule.js';
import { CHARS_PER_UNIT } from './coerce.js';
import { bucketOf, murmur3, PrefixMurmur3 } from '../murmur3.js';
import { typeName } from '../json-path.js';
import {
  bucketsMayWarn,
  compileParts,
  decision,
  tableOf,
  variantAt,
  type FractionalParts,
  type Table,
} from './fractional-buckets.js';

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
function pick(
  table: Table,
  prefix: string,
  suffix: string,
  env: Env,
  path: string,
  hasher?: PrefixMurmur3,
): unknown {
  const hash = hasher === undefined ? murmur3(prefix, suffix) : hasher.hash(prefix, suffix);
  const bucket = bucketOf(hash, table.total);
  const variant = variantAt(table, bucket);
  if (env.trace !== undefined) {
    env.trace.push(decision(table, prefix + suffix, hash, bucket, variant, path));
  }
  return variant;
}

/**
 * `fractional` (flagd's v2 bucketing, the default): sticky percentage buckets. The key is the first
 * argument when it evaluates to a string, else `flagKey + targetingKey`; MurmurHash3 of its UTF-8
 * bytes picks a bucket `floor(hash * total / 2^32)`. Invalid buckets or a missing key give `null`.
 * A literal bucket list is parsed into its cumulative weight table once, at compile time.
 */
const fractional: Operator = {
  mayWarn: bucketsMayWarn,
  compile(args, scope) {
    const parts = compileParts(args, scope);
    const { keyRule, fixed, path } = parts;
    if (fixed !== undefined && typeof fixed !== 'string') {
      // The common cases: a literal bucket table, keyed by an expression or implicitly.
      const table = fixed;
      if (keyRule === undefined) {
        const hasher = new PrefixMurmur3();
        return (_data, env) => {
          const targetingKey = targetingKeyOf(env);
          if (targetingKey === null) return null;
          return pick(table, env.flagKey, targetingKey, env, path, hasher);
        };
      }
      const concatenated = scope.concatenationOf(keyRule);
      if (concatenated !== undefined) return twoPart(parts, table, concatenated);
      // Rare: the key expression gave null (use the targeting key) or an array (a bucket).
      return (data, env) => {
        const key = keyRule(data, env);
        return typeof key === 'string'
          ? pick(table, key, '', env, path)
          : evaluateDynamic(parts, data, env);
      };
    }
    return (data, env) => evaluateDynamic(parts, data, env);
  },
};

/**
 * A literal table keyed by `cat` of two strings (`[{"var": "$flagd.flagKey"}, {"var": "…"}]`):
 * the two are hashed as one key without building it, the first one's blocks remembered. Anything
 * else (a part that is no string, the budget spent) takes the general path, which evaluates the
 * key again (the parts read the data and spend nothing unless they were strings).
 */
function twoPart(parts: FractionalParts, table: Table, [a, b]: readonly [Rule, Rule]): Rule {
  const { keyRule, path } = parts;
  const hasher = new PrefixMurmur3();
  return (data, env) => {
    const x = a(data, env);
    const y = b(data, env);
    if (
      typeof x === 'string' &&
      typeof y === 'string' &&
      env.spend(Math.floor((x.length + y.length) / CHARS_PER_UNIT))
    )
      return pick(table, x, y, env, path, hasher);
    const key = (keyRule as Rule)(data, env);
    return typeof key === 'string'
      ? pick(table, key, '', env, path)
      : evaluateDynamic(parts, data, env);
  };
}

/** The general `fractional`: any key value, bucket lists computed per evaluation. */
function evaluateDynamic(parts: FractionalParts, data: unknown, env: Env): unknown {
  const { keyRule, path } = parts;
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
  const table = tableOf(parts, extra, data, env);
  return table === undefined ? null : pick(table, prefix, suffix, env, path);
}

/** The legacy `fractionalEvaluation` over `fractional`: a bare property name as first argument. */
export function legacyOf(fractionalOperator: Operator): Operator {
  return {
    mayWarn: () => true, // deprecated: it warns whenever it is compiled
    compile(args, scope) {
      scope.warn(`${scope.path}: "fractionalEvaluation" is deprecated; use "fractional"`);
      const first = args[0];
      const rewritten = typeof first === 'string' ? [{ var: first }, ...args.slice(1)] : args;
      return fractionalOperator.compile(rewritten, scope);
    },
  };
}

/** @internal */
export const fractionalOperators: Readonly<Record<string, Operator>> = {
  fractional,
  fractionalEvaluation: legacyOf(fractional),
};
