import type { CompileScope, Env, FractionalDecision, Rule } from '../rule.js';
import { typeName } from '../json-path.js';
import { isPlainData } from '../rule-check.js';

const MAX_WEIGHT = 2147483647;
const NO_RULES: readonly Rule[] = Object.freeze([]);

/** A parsed bucket list: variants, their weights and cumulative range ends. @internal */
export interface Table {
  readonly variants: readonly unknown[];
  readonly weights: readonly number[];
  readonly ends: readonly number[];
  readonly total: number;
}

/**
 * Parses evaluated buckets `[[variant, weight?], …]` per flagd v2 (those from `offset` on); a
 * string says what is wrong. With `build` false it only checks them: the table it returns then
 * holds the total alone. @internal
 */
export function parseBuckets(
  buckets: readonly unknown[],
  offset = 0,
  build = true,
): Table | string {
  if (buckets.length <= offset) return 'no buckets';
  const variants: unknown[] = [];
  const weights: number[] = [];
  const ends: number[] = [];
  let total = 0;
  for (let at = offset; at < buckets.length; at++) {
    const i = at - offset;
    const bucket = buckets[at];
    if (!Array.isArray(bucket) || bucket.length === 0)
      return `bucket ${i} is not [variant, weight]`;
    const variant: unknown = bucket[0];
    const type = typeof variant;
    if (variant !== null && type !== 'string' && type !== 'number' && type !== 'boolean') {
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
    if (!build) continue;
    variants.push(variant);
    weights.push(Math.max(0, weight));
    ends.push(total);
  }
  if (total === 0) return 'all weights are zero';
  return { variants, weights, ends, total };
}

/** A parsed table back as bucket entries (negative weights were clamped, to the same effect). @internal */
export function bucketsOf(table: Table): unknown[][] {
  return table.variants.map((variant, i) => [variant, table.weights[i]]);
}

/** The buckets computed per evaluation (weights or variants given by rules). @internal */
export function evaluateAll(rules: readonly Rule[]): (data: unknown, env: Env) => unknown[] {
  return (data, env) => rules.map((rule) => rule(data, env));
}

/**
 * A `fractional` rule's arguments compiled: the bucketing expression (absent when the first
 * argument is already a bucket), the bucket rules, and the weight table when the buckets are
 * literal (parsed once; a string when they are invalid, warned about at load). @internal
 */
export interface FractionalParts {
  readonly keyRule: Rule | undefined;
  /** The bucket rules, unless {@link FractionalParts.fixed} is their table (then empty). */
  readonly bucketRules: readonly Rule[];
  readonly fixed: Table | string | undefined;
  /** The rule's path when compiled for `explain`, else empty. */
  readonly path: string;
}

/**
 * Whether compiling `fractional` over `args` may warn: unless its buckets are plain data that
 * parse into a valid table, it is compiled at load (where an invalid literal table is reported).
 * @internal
 */
export function bucketsMayWarn(args: readonly unknown[]): boolean {
  const offset = args.length > 0 && !Array.isArray(args[0]) ? 1 : 0;
  for (let i = offset; i < args.length; i++) if (!isPlainData(args[i])) return true;
  return typeof parseBuckets(args, offset, false) === 'string';
}

/** @internal */
export function compileParts(args: readonly unknown[], scope: CompileScope): FractionalParts {
  const hasKeyRule = args.length > 0 && !Array.isArray(args[0]);
  const keyRule = hasKeyRule ? scope.compileArg(args, 0) : undefined;
  const offset = hasKeyRule ? 1 : 0;
  const bucketRules = scope.compileAll(args.slice(offset), offset);
  const literal = scope.constantsOf(bucketRules);
  const fixed = literal === undefined ? undefined : parseBuckets(literal);
  if (typeof fixed === 'string') scope.warn(`${scope.path}: ${fixed}; it always yields null`);
  // A literal table stands for its rules: keeping them too would cost every flag heap.
  const rules = typeof fixed === 'object' ? NO_RULES : bucketRules;
  return { keyRule, bucketRules: rules, fixed, path: scope.tracing ? scope.path : '' };
}

/**
 * The table to bucket in: the literal one, or the buckets evaluated now (with `extra`, a bucket
 * that stood where the bucketing expression may be); `undefined` when invalid (logged). @internal
 */
export function tableOf(
  parts: FractionalParts,
  extra: unknown[] | undefined,
  data: unknown,
  env: Env,
): Table | undefined {
  const table =
    parts.fixed !== undefined && extra === undefined
      ? parts.fixed
      : parseBuckets([
          ...(extra ?? []),
          ...(typeof parts.fixed === 'object'
            ? bucketsOf(parts.fixed)
            : parts.bucketRules.map((rule) => rule(data, env))),
        ]);
  if (typeof table === 'string') {
    env.logger.debug(`fractional: ${table}`);
    return undefined;
  }
  return table;
}

/** The variant of bucket `floor(hash * total / 2^32)`'s range. @internal */
export function variantAt(table: Table, bucket: number): unknown {
  const { ends, variants } = table;
  let index = 0;
  while (bucket >= (ends[index] as number)) index++;
  return variants[index];
}

/** What `explain` shows of one decision; `key` is what was hashed (v2: the string key). @internal */
export function decision(
  table: Table,
  key: string | { readonly bucketingKey: string; readonly cbor?: string },
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
    ...(typeof key === 'string' ? { bucketingKey: key } : key),
    hash,
    totalWeight: table.total,
    bucket,
    buckets,
    variant,
  };
}
