import type { Env, Operator, Rule } from '../rule.js';
import { textOf } from './coerce.js';

const FLAGD = '$flagd';
/** A path that names nothing: `lookup` finds no segment `\u0000`. */
const NOTHING: readonly string[] = ['\u0000', '\u0000'];

/**
 * Reads a dotted path from `data` the way json-logic-js does, except that only own properties are
 * read (so `__proto__`, `constructor` and friends are never reached). At the root, `$flagd.flagKey`
 * and `$flagd.timestamp` come from the evaluation, overriding any `$flagd` in the context.
 * @internal
 */
export function lookup(data: unknown, segments: readonly string[], env: Env): unknown {
  let current = data;
  let i = 0;
  if (segments[0] === FLAGD && data === env.root) {
    current = { flagKey: env.flagKey, timestamp: env.timestamp() };
    i = 1;
  }
  for (; i < segments.length; i++) {
    if (current === null || current === undefined) return undefined;
    const key = segments[i] as string;
    if (!Object.hasOwn(current as object, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * The segments of a `var` path, or `null` for "the whole data" (`""`, `null`, absent). A path that
 * is an array (computed from the context) is turned into text without recursion, paid for from
 * `env`; one that cannot be names nothing (`[]`: the lookup finds nothing).
 */
function segmentsOf(path: unknown, env?: Env): readonly string[] | null {
  if (path === undefined || path === null || path === '') return null;
  const text = Array.isArray(path) && env !== undefined ? textOf(path, env) : String(path);
  if (text === undefined) return NOTHING;
  return text.includes('.') ? text.split('.') : [text]; // [text] keeps the rule's own string
}

/** Keys a plain object could inherit: these are read with an own-property check. */
const inheritable = (key: string): boolean => key in Object.prototype || key === '__proto__';

function fromSegments(segments: readonly string[] | null, fallback: Rule | undefined): Rule {
  if (segments === null) return (data) => data;
  if (segments.length === 1 && segments[0] !== FLAGD) {
    const key = segments[0] as string;
    if (!inheritable(key) && fallback === undefined) return plainKey(key);
    return ownKey(key, fallback);
  }
  return (data, env) => {
    const value = lookup(data, segments, env);
    if (value !== undefined) return value;
    return fallback === undefined ? null : fallback(data, env);
  };
}

/** The hot path: one key no prototype property has the name of, read directly. */
function plainKey(key: string): Rule {
  return (data) => {
    if (data === null || data === undefined) return null;
    const value = (data as Record<string, unknown>)[key];
    return value === undefined ? null : value;
  };
}

const FLAG_KEY_PATH: readonly string[] = [FLAGD, 'flagKey'];

/**
 * `{"var": "$flagd.flagKey"}`, shared by every rule: the evaluation's flag key at the root (no
 * object built for `$flagd`), a `$flagd.flagKey` path in the data anywhere else.
 */
const flagKeyRule: Rule = (data, env) => {
  if (data === env.root) return env.flagKey;
  const value = lookup(data, FLAG_KEY_PATH, env);
  return value === undefined ? null : value;
};

/** One key read as an own property only, with an optional default. */
function ownKey(key: string, fallback: Rule | undefined): Rule {
  return (data, env) => {
    const value =
      data !== null && data !== undefined && Object.hasOwn(data as object, key)
        ? (data as Record<string, unknown>)[key]
        : undefined;
    if (value !== undefined) return value;
    return fallback === undefined ? null : fallback(data, env);
  };
}

/** `var`: a dotted path into the data, with an optional default. */
const variable: Operator = {
  compile(args, scope) {
    const path = scope.compileArg(args, 0);
    const fallback = args.length > 1 ? scope.compileArg(args, 1) : undefined;
    const known = scope.constantOf(path);
    if (known !== undefined) {
      const segments = segmentsOf(known.value);
      if (fallback === undefined && segments !== null) {
        if (segments.length === 2 && segments[0] === FLAGD && segments[1] === 'flagKey')
          return flagKeyRule;
        const [key] = segments;
        if (segments.length === 1 && key !== FLAGD && !inheritable(key as string))
          return scope.keyReader(key as string, plainKey(key as string));
      }
      return fromSegments(segments, fallback);
    }
    return (data, env) => fromSegments(segmentsOf(path(data, env), env), fallback)(data, env);
  },
};

function missingKeys(keys: ArrayLike<unknown>, data: unknown, env: Env): unknown[] {
  const missing: unknown[] = [];
  if (!env.spend(keys.length)) return missing;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    // Each key is read as {"var": key} would read it: an array key is [path, default].
    const [path, fallback] = Array.isArray(key) ? key : [key];
    const segments = segmentsOf(path, env);
    const found = segments === null ? data : lookup(data, segments, env);
    const value = found === undefined ? fallback : found;
    if (value === undefined || value === null || value === '') missing.push(key);
  }
  return missing;
}

/** `missing`: the keys (or the keys of a first array argument) that are absent, null or "". */
const missing: Operator = {
  compile(args, scope) {
    const rules = scope.compileAll(args);
    return (data, env) => {
      const values = rules.map((rule) => rule(data, env));
      const keys = Array.isArray(values[0]) ? (values[0] as unknown[]) : values;
      return missingKeys(keys, data, env);
    };
  },
};

/** `missing_some`: `[]` when at least `need` of `options` are present, else the missing ones. */
const missingSome: Operator = {
  compile(args, scope) {
    const need = scope.compileArg(args, 0);
    const options = scope.compileArg(args, 1);
    return (data, env) => {
      const count = need(data, env) as number;
      const list = options(data, env);
      // json-logic-js evaluates {"missing": options}: a leading array is the key list.
      const values = Array.isArray(list) ? (list as unknown[]) : [list];
      const keys = Array.isArray(values[0]) ? (values[0] as unknown[]) : values;
      const absent = missingKeys(keys, data, env);
      return (list as { length: number }).length - absent.length >= count ? [] : absent;
    };
  },
};

/** @internal */
export const dataOperators: Readonly<Record<string, Operator>> = {
  var: variable,
  missing,
  missing_some: missingSome,
};
