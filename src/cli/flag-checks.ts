import type { ValidationIssue } from '../evaluator/index.js';
import { childPath, isObject } from '../evaluator/json-path.js';

/**
 * Checks beyond the schema, for rules flagd loads but that cannot work as written: a targeting
 * that names a variant the flag does not have, a `fractional` whose weights add up to 0 or that
 * has no buckets, and a `fractional` keyed by a misspelt targeting key. Pure; never throws.
 */

type Json = Record<string, unknown>;
type Warn = (path: string, rule: string, message: string) => void;

/** How deep the walks below go (the evaluator refuses deeper rules anyway). */
const MAX_DEPTH = 256;

/** The flags of a parsed document with their JSON paths, in either form (map or array). */
export function flagEntries(doc: unknown): [string, Json, string][] {
  const flags = isObject(doc) ? doc['flags'] : undefined;
  if (Array.isArray(flags))
    return flags.flatMap((flag: unknown, i) =>
      isObject(flag) && typeof flag['key'] === 'string'
        ? [[flag['key'], flag, childPath('flags', i)] as [string, Json, string]]
        : [],
    );
  if (!isObject(flags)) return [];
  return Object.keys(flags).flatMap((key) => {
    const flag = flags[key];
    return isObject(flag) ? [[key, flag, childPath('flags', key)] as [string, Json, string]] : [];
  });
}

/** JSON Logic's truthiness of a literal. */
const truthy = (value: unknown): boolean =>
  Array.isArray(value) ? value.length > 0 : Boolean(value);

const argsOf = (raw: unknown): unknown[] => (Array.isArray(raw) ? raw : [raw]);

/** The one operator of a rule node, or undefined when it is data. */
function operatorOf(node: unknown): [string, unknown[]] | undefined {
  if (!isObject(node)) return undefined;
  const keys = Object.keys(node);
  return keys.length === 1 ? [keys[0] as string, argsOf(node[keys[0] as string])] : undefined;
}

/** A `fractional`'s buckets, without its bucketing key. */
export function bucketsOf(args: readonly unknown[]): { key: unknown; buckets: unknown[] } {
  const keyed = args.length > 0 && !Array.isArray(args[0]);
  return { key: keyed ? args[0] : undefined, buckets: args.slice(keyed ? 1 : 0) };
}

/**
 * Calls `visit` with every literal a rule can evaluate to (the branches of `if`, the operands of
 * `and`/`or`, the variants of `fractional` buckets, through `$ref`s), with its path. Each shared
 * evaluator is walked once per walk (`expanded`): its literals do not depend on the way in, and
 * evaluators that each use the previous twice must not make the walk exponential.
 */
function outcomes(
  node: unknown,
  path: string,
  evaluators: ReadonlyMap<string, unknown>,
  visit: (value: unknown, path: string) => void,
  depth = 0,
  expanded: Set<string> = new Set(),
): void {
  if (depth > MAX_DEPTH) return;
  if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
    visit(node, path);
    return;
  }
  const op = operatorOf(node);
  if (op === undefined) return;
  const [name, args] = op;
  const at = childPath(path, name);
  const next = (arg: unknown, i: number) =>
    outcomes(arg, childPath(at, i), evaluators, visit, depth + 1, expanded);
  if (name === 'if' || name === '?:') {
    args.forEach((arg, i) => {
      if (i % 2 === 1 || (i === args.length - 1 && i > 0)) next(arg, i);
    });
  } else if (name === 'and' || name === 'or') {
    // `and` returns its first falsy operand (else its last), `or` its first truthy one
    args.forEach((arg, i) => {
      const literal = typeof arg !== 'object' || arg === null;
      if (i === args.length - 1 || !literal || truthy(arg) === (name === 'or')) next(arg, i);
    });
  } else if (name === 'fractional' || name === 'fractionalEvaluation') {
    const { buckets } = bucketsOf(args);
    const offset = args.length - buckets.length;
    buckets.forEach((bucket, i) => {
      if (Array.isArray(bucket) && bucket.length > 0)
        outcomes(
          bucket[0],
          childPath(childPath(at, i + offset), 0),
          evaluators,
          visit,
          depth + 1,
          expanded,
        );
    });
  } else if (name === '$ref' && typeof args[0] === 'string' && !expanded.has(args[0])) {
    const ref = args[0];
    expanded.add(ref);
    if (evaluators.has(ref))
      outcomes(
        evaluators.get(ref),
        childPath('$evaluators', ref),
        evaluators,
        visit,
        depth + 1,
        expanded,
      );
  }
}

/** Every `fractional` in a rule, with its path (not through `$ref`: evaluators are walked once). */
function fractionals(rule: unknown, path: string): [unknown[], string][] {
  const found: [unknown[], string][] = [];
  const stack: [unknown, string, number][] = [[rule, path, 0]];
  while (stack.length > 0) {
    const [node, at, depth] = stack.pop() as [unknown, string, number];
    if (depth > MAX_DEPTH) continue;
    if (Array.isArray(node)) {
      node.forEach((item, i) => stack.push([item, childPath(at, i), depth + 1]));
      continue;
    }
    const op = operatorOf(node);
    if (op === undefined) continue;
    const [name, args] = op;
    const opPath = childPath(at, name);
    if (name === 'fractional' || name === 'fractionalEvaluation') found.push([args, opPath]);
    args.forEach((arg, i) => stack.push([arg, childPath(opPath, i), depth + 1]));
  }
  return found.reverse();
}

const isTargetingKeyTypo = (name: string) =>
  name !== 'targetingKey' && name.toLowerCase().replace(/[^a-z]/g, '') === 'targetingkey';

/** The warnings of one `fractional`: no buckets, weights adding up to 0, a misspelt targeting key. */
function checkFractional(args: readonly unknown[], path: string, warn: Warn): void {
  const { key, buckets } = bucketsOf(args);
  if (buckets.length === 0) {
    warn(
      path,
      'fractional-empty',
      'a fractional without buckets always yields null: everyone gets the default variant',
    );
    return;
  }
  const weights = buckets.map((bucket) => {
    if (!Array.isArray(bucket)) return undefined;
    const weight: unknown = bucket.length > 1 ? bucket[1] : 1;
    return weight === null ? 1 : typeof weight === 'number' ? Math.max(0, weight) : undefined;
  });
  if (
    weights.every((w) => w !== undefined) &&
    weights.reduce((a, w) => (a as number) + (w as number), 0) === 0
  )
    warn(
      path,
      'fractional-zero-total',
      'every weight is 0: the fractional always yields null, so everyone gets the default variant',
    );
  const op = operatorOf(key);
  const name = op?.[0] === 'var' ? op[1][0] : undefined;
  if (typeof name === 'string' && isTargetingKeyTypo(name))
    warn(
      childPath(path, 0),
      'fractional-targeting-key',
      `the context has no "${name}" (the targeting key is "targetingKey"): this fractional buckets by flag key and targeting key instead`,
    );
}

const listOf = (names: readonly string[]) =>
  names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ');

/** The warnings {@link validateConfiguration} does not give, for one parsed configuration. */
export function flagChecks(doc: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const warn: Warn = (path, rule, message) => {
    const id = `${path}\u0000${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    issues.push({ severity: 'warning', path, rule, message });
  };
  const raw = isObject(doc) ? doc['$evaluators'] : undefined;
  const evaluators = new Map(isObject(raw) ? Object.entries(raw) : []);
  for (const [name, rule] of evaluators)
    for (const [args, at] of fractionals(rule, childPath('$evaluators', name)))
      checkFractional(args, at, warn);
  for (const [key, flag, path] of flagEntries(doc)) {
    const targeting = flag['targeting'];
    if (targeting === undefined) continue;
    const rulePath = childPath(path, 'targeting');
    for (const [args, at] of fractionals(targeting, rulePath)) checkFractional(args, at, warn);
    const variants = flag['variants'];
    if (!isObject(variants)) continue;
    const names = Object.keys(variants);
    outcomes(targeting, rulePath, evaluators, (value, at) => {
      const variant = String(value);
      if (Object.hasOwn(variants, variant)) return;
      const who = at.startsWith('$evaluators') ? `flag "${key}": ` : '';
      warn(
        at,
        'unknown-variant',
        `${who}${JSON.stringify(variant)} is not a variant (${listOf(names)}): evaluations that reach it fail with GENERAL`,
      );
    });
  }
  return issues;
}
