import type { WeightedBucket } from '../evaluator/bucket-ranges.js';
import { childPath, isObject } from '../evaluator/json-path.js';
import { canonicalJson } from './canonical-json.js';

/** A `fractional` operator found in a flag's targeting, read as written. */
export interface FractionalNode {
  /** Its place in the order found (depth first, arguments before the operator). */
  readonly index: number;
  /** JSON path of the operator, e.g. `targeting.if[2].fractional`. */
  readonly path: string;
  /** The bucketing expression (the first argument); `undefined`: implicit, flagKey + targetingKey. */
  readonly key: unknown;
  /** The bucketing key for people: `flagKey + targetingKey`, or the expression as JSON. */
  readonly keyText: string;
  /** Whether the key hashes the flag's own key (implicitly, or through `$flagd.flagKey`). */
  readonly usesFlagKey: boolean;
  /** The buckets, when every variant and weight is a literal; `undefined` when rules compute them. */
  readonly buckets: readonly WeightedBucket[] | undefined;
}

const NAMES = new Set(['fractional', 'fractionalEvaluation']);
const MAX_DEPTH = 256;
const IMPLICIT = 'flagKey + targetingKey';

/** The arguments as `fractional` reads them: the legacy form's bare property name becomes a `var`. */
function argumentsOf(name: string, value: unknown): unknown[] {
  const args = Array.isArray(value) ? value : [value];
  const first: unknown = args[0];
  if (name === 'fractionalEvaluation' && typeof first === 'string')
    return [{ var: first }, ...args.slice(1)];
  return args;
}

/** The literal buckets, or `undefined` when a variant or a weight is a rule (or malformed). */
function literalBuckets(buckets: readonly unknown[]): WeightedBucket[] | undefined {
  const out: WeightedBucket[] = [];
  for (const bucket of buckets) {
    if (!Array.isArray(bucket) || bucket.length < 1 || bucket.length > 2) return undefined;
    const [variant, weight = 1] = bucket as [unknown, unknown?];
    if (!['string', 'number', 'boolean'].includes(typeof variant)) return undefined;
    const w = weight === null ? 1 : weight;
    if (typeof w !== 'number' || !Number.isInteger(w)) return undefined;
    out.push({ variant: String(variant), weight: Math.max(0, w) });
  }
  return out.length === 0 ? undefined : out;
}

function nodeOf(index: number, path: string, name: string, value: unknown): FractionalNode {
  const args = argumentsOf(name, value);
  const hasKey = args.length > 0 && !Array.isArray(args[0]);
  const key = hasKey ? args[0] : undefined;
  const keyText = hasKey ? canonicalJson(key) : IMPLICIT;
  return {
    index,
    path,
    key,
    keyText,
    usesFlagKey: !hasKey || keyText.includes('"$flagd.flagKey"'),
    buckets: literalBuckets(args.slice(hasKey ? 1 : 0)),
  };
}

/**
 * A copy of `rule` in which each `fractional` operator is replaced by what `replace` returns for it
 * (its own object to keep it). Arguments are visited before the operator that holds them.
 */
export function mapFractionals(
  rule: unknown,
  replace: (node: FractionalNode, operator: Record<string, unknown>) => unknown,
  path = 'targeting',
): unknown {
  let index = 0;
  const visit = (value: unknown, at: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) return value;
    if (Array.isArray(value))
      return value.map((item, i) => visit(item, childPath(at, i), depth + 1));
    if (!isObject(value)) return value;
    const copy = Object.fromEntries(
      Object.keys(value).map((key) => [key, visit(value[key], childPath(at, key), depth + 1)]),
    );
    const keys = Object.keys(copy);
    const name = keys[0];
    if (keys.length !== 1 || name === undefined || !NAMES.has(name)) return copy;
    return replace(nodeOf(index++, childPath(at, name), name, copy[name]), copy);
  };
  return visit(rule, path, 0);
}

/** Every `fractional` operator in a flag's targeting, in evaluation order. */
export function fractionalsIn(targeting: unknown): FractionalNode[] {
  const found: FractionalNode[] = [];
  mapFractionals(targeting, (node, operator) => {
    found.push(node);
    return operator;
  });
  return found;
}

/**
 * The one `fractional` that is a flag's whole targeting (the usual rollout: `{"fractional": […]}`),
 * or `undefined` when the targeting is anything else.
 */
export function wholeFractional(targeting: unknown): FractionalNode | undefined {
  if (!isObject(targeting)) return undefined;
  const keys = Object.keys(targeting);
  const name = keys[0];
  if (keys.length !== 1 || name === undefined || !NAMES.has(name)) return undefined;
  return nodeOf(0, childPath('targeting', name), name, targeting[name]);
}
