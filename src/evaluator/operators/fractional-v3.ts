import type { Env, Operator } from '../rule.js';
import { cborHash, cborPairHash, encodeCbor } from '../cbor.js';
import { bucketOf } from '../murmur3.js';
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
import { legacyOf, targetingKeyOf } from './fractional.js';

/** Stands for the implicit key `[flagKey, targetingKey]` until `explain` needs it spelt out. */
const IMPLICIT = Symbol('implicit key');

const UNMETERED = { spend: () => true };

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Picks the bucket of `hash`, the hash of `value` (or of the implicit key). */
function pick(table: Table, hash: number, value: unknown, env: Env, path: string): unknown {
  const bucket = bucketOf(hash, table.total);
  const variant = variantAt(table, bucket);
  if (env.trace !== undefined) {
    const hashed = value === IMPLICIT ? [env.flagKey, targetingKeyOf(env)] : value;
    const key = {
      bucketingKey: JSON.stringify(hashed),
      // encoded again for the trace only: not charged to the evaluation's budget a second time
      cbor: hex(encodeCbor(hashed, UNMETERED) ?? new Uint8Array()),
    };
    env.trace.push(decision(table, key, hash, bucket, variant, path));
  }
  return variant;
}

/** The hash of the implicit key, the CBOR array `[flagKey, targetingKey]`; −1 without a key. */
function implicitHash(env: Env): number {
  const targetingKey = targetingKeyOf(env);
  return targetingKey === null ? -1 : cborPairHash(env.flagKey, targetingKey);
}

/**
 * `fractional` with flagd's v3 bucketing (the ADR "Harden Hashing Consistency And Add Support For
 * Non-string Attributes", flagd-testbed `@fractional-v3`), chosen by the evaluator option
 * `fractional: 'v3'`. The bucketing value, whatever its JSON type, is hashed as deterministic CBOR
 * (see `cbor.ts`); without a bucketing expression the key is the CBOR array
 * `[flagKey, targetingKey]`. A `null` bucketing value, or no string targeting key, gives `null`.
 * Buckets, weights and the bucket arithmetic are v2's.
 */
const fractionalV3: Operator = {
  mayWarn: bucketsMayWarn,
  compile(args, scope) {
    const parts = compileParts(args, scope);
    const { keyRule, fixed, path } = parts;
    if (typeof fixed === 'object') {
      // The common cases: a literal bucket table, keyed implicitly or by an expression.
      const table = fixed;
      if (keyRule === undefined) {
        return (_data, env) => {
          const hash = implicitHash(env);
          return hash < 0 ? null : pick(table, hash, IMPLICIT, env, path);
        };
      }
      return (data, env) => {
        const value = keyRule(data, env);
        if (Array.isArray(value)) return bucketOn(value, parts, data, env); // a bucket after all
        const hash = cborHash(value, env);
        return hash < 0 ? unbucketable(value, env) : pick(table, hash, value, env, path);
      };
    }
    return (data, env) =>
      bucketOn(keyRule === undefined ? IMPLICIT : keyRule(data, env), parts, data, env);
  },
};

/** Buckets on `value` (an array there is a bucket, and the implicit key applies), any table. */
function bucketOn(value: unknown, parts: FractionalParts, data: unknown, env: Env): unknown {
  let extra: unknown[] | undefined;
  if (Array.isArray(value)) {
    extra = [value];
    value = IMPLICIT;
  }
  const hash = value === IMPLICIT ? implicitHash(env) : cborHash(value, env);
  if (hash < 0) return value === IMPLICIT ? null : unbucketable(value, env);
  const table = tableOf(parts, extra, data, env);
  return table === undefined ? null : pick(table, hash, value, env, parts.path);
}

function unbucketable(value: unknown, env: Env): null {
  env.logger.debug(`fractional: cannot bucket on ${typeName(value)}`);
  return null;
}

/** @internal */
export const fractionalV3Operators: Readonly<Record<string, Operator>> = {
  fractional: fractionalV3,
  fractionalEvaluation: legacyOf(fractionalV3),
};
