import { isObject } from '../evaluator/json-path.js';
import { seededRandom } from '../stats/random.js';

type Json = Record<string, unknown>;

/**
 * A generated population for estimating who a rule sends where: each subject has a random
 * targeting key and, for every attribute the rule reads, a value drawn from the literals the rule
 * compares it with (and values on either side of them), another value, or none. Pure and seeded.
 */

const ABSENT = Symbol('absent');
const OTHER = 'rampflag-other';

function varName(node: unknown): string | undefined {
  if (!isObject(node) || Object.keys(node).length !== 1 || !('var' in node)) return undefined;
  const raw = node['var'];
  const name = Array.isArray(raw) ? raw[0] : raw;
  return typeof name === 'string' && name !== '' && !name.startsWith('$flagd.') ? name : undefined;
}

const isLiteral = (v: unknown) =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function semverAround(version: string): string[] {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return [version];
  const [major, minor, patch] = match.slice(1).map(Number) as [number, number, number];
  return [version, `${major + 1}.0.0`, `${major}.${minor}.${patch + 1}`, '0.0.0'];
}

/** The values worth trying for each attribute a rule compares (`ring` → `internal`, `beta`). */
export function attributeValues(rule: unknown): Map<string, unknown[]> {
  const values = new Map<string, Set<unknown>>();
  const add = (name: string | undefined, ...found: unknown[]) => {
    if (name === undefined) return;
    const set = values.get(name) ?? new Set<unknown>();
    for (const v of found) set.add(v);
    values.set(name, set);
  };
  const stack: [unknown, number][] = [[rule, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (depth > 128) continue;
    if (Array.isArray(node)) node.forEach((item) => stack.push([item, depth + 1]));
    if (!isObject(node) || Object.keys(node).length !== 1) continue;
    const op = Object.keys(node)[0] as string;
    const raw = node[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const [a, b, c] = args;
    if (op === 'fractional' || op === 'fractionalEvaluation') {
      // its bucketing key: every subject its own (see bucketingAttributes); its buckets may nest rules
      const keyed = args.length > 0 && !Array.isArray(a);
      args.slice(keyed ? 1 : 0).forEach((arg) => stack.push([arg, depth + 1]));
      continue;
    }
    if (['==', '===', '!=', '!=='].includes(op)) {
      if (isLiteral(b)) add(varName(a), b);
      if (isLiteral(a)) add(varName(b), a);
    } else if (['<', '<=', '>', '>='].includes(op)) {
      for (const [v, lit] of [
        [a, b],
        [b, a],
        [b, c],
      ] as const)
        if (typeof lit === 'number') add(varName(v), lit - 1, lit, lit + 1);
    } else if (op === 'in') {
      if (Array.isArray(b)) add(varName(a), ...b.filter(isLiteral));
      if (typeof a === 'string') add(varName(b), a, `x${a}x`);
    } else if (op === 'starts_with' && typeof b === 'string') add(varName(a), `${b}x`);
    else if (op === 'ends_with' && typeof b === 'string') add(varName(a), `x${b}`);
    else if (op === 'sem_ver' && typeof c === 'string') add(varName(a), ...semverAround(c));
    else for (const arg of args) if (varName(arg) !== undefined) add(varName(arg), true);
    args.forEach((arg) => stack.push([arg, depth + 1]));
  }
  return new Map([...values].map(([name, set]) => [name, [...set]]));
}

/** The attributes a rule's `fractional`s bucket by: every subject needs its own value of each. */
export function bucketingAttributes(rule: unknown): Set<string> {
  const names = new Set<string>();
  const collect = (node: unknown, depth: number, inKey: boolean): void => {
    if (depth > 128) return;
    if (Array.isArray(node)) return node.forEach((item) => collect(item, depth + 1, inKey));
    if (!isObject(node) || Object.keys(node).length !== 1) return;
    const name = varName(node);
    if (inKey && name !== undefined) names.add(name);
    const op = Object.keys(node)[0] as string;
    const raw = node[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const keyed =
      (op === 'fractional' || op === 'fractionalEvaluation') &&
      args.length > 0 &&
      !Array.isArray(args[0]);
    args.forEach((arg, i) => collect(arg, depth + 1, inKey || (keyed && i === 0)));
  };
  collect(rule, 0, false);
  return names;
}

/** Sets `name` (dotted: nested, as `var` reads it) as own properties, `__proto__` included. */
function setPath(target: Json, name: string, value: unknown): void {
  const parts = name.split('.');
  const define = (on: Json, key: string, v: unknown) =>
    Object.defineProperty(on, key, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  let at = target;
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(at, part) || !isObject(at[part])) define(at, part, {});
    at = at[part] as Json;
  }
  define(at, parts.at(-1) as string, value);
}

/**
 * `n` subjects (seeded): a random `targetingKey` each, and each attribute of `values` drawn
 * uniformly from its values, another value and none. A targeting key the rule compares is one of
 * its values half of the time; an attribute a `fractional` buckets by (`bucketing`) is the
 * subject's own (half of the time, when the rule also compares it).
 */
export function generateSubjects(
  n: number,
  seed: number,
  values: ReadonlyMap<string, readonly unknown[]>,
  bucketing: ReadonlySet<string> = new Set(),
): Json[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const subjects: Json[] = [];
  for (let i = 0; i < n; i++) {
    const id = Math.floor(random() * 2 ** 48)
      .toString(16)
      .padStart(12, '0');
    const subject: Json = { targetingKey: `user-${id}` };
    for (const [name, options] of values) {
      if (name === 'targetingKey') {
        if (random() < 0.5) subject['targetingKey'] = String(pick(options));
        continue;
      }
      const value = pick<unknown>([...options, OTHER, ABSENT]);
      if (value !== ABSENT) setPath(subject, name, value);
    }
    for (const name of bucketing) {
      if (name === 'targetingKey') continue;
      if (!values.has(name) || random() < 0.5) setPath(subject, name, `${name}-${id}`);
    }
    subjects.push(subject);
  }
  return subjects;
}
