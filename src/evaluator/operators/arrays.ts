import type { Env, Operator, Rule } from '../rule.js';
import { readKey, textCost, textOf } from './coerce.js';
import { truthy } from './eager.js';

/** Compiles `[source, logic, ...]` where `logic` runs with each element as its data. */
function scoped(
  run: (items: unknown, logic: Rule, env: Env, data: unknown, rest: readonly Rule[]) => unknown,
): Operator {
  return {
    compile(args, scope) {
      const rules = scope.compileAll(args);
      const [source, logic, ...rest] = rules;
      const over = source ?? (() => undefined);
      const each = logic ?? (() => undefined);
      return (data, env) => {
        const items = over(data, env);
        // every element visited is paid for up front: a 60,000-element reduce stops here
        if (Array.isArray(items) && !env.spend(items.length)) return null;
        return run(items, each, env, data, rest);
      };
    },
  };
}

const filter = (items: unknown, logic: Rule, env: Env): unknown[] =>
  Array.isArray(items) ? items.filter((item) => truthy(logic(item, env))) : [];

/**
 * `all` / `none` / `some`: `empty` for anything but a non-empty array; otherwise `found` as soon as
 * an element's truthiness equals `stopOn`, else `!found`.
 */
function quantifier(empty: boolean, stopOn: boolean, found: boolean): Operator {
  return scoped((items, logic, env) => {
    if (!Array.isArray(items) || items.length === 0) return empty;
    for (const item of items) if (truthy(logic(item, env)) === stopOn) return found;
    return !found;
  });
}

/** `in`: membership in an array (strict equality) or substring of a string. */
const membership: Operator = {
  compile(args, scope) {
    const needle = scope.compileArg(args, 0);
    const haystack = scope.compileArg(args, 1);
    const known = scope.constantOf(haystack)?.value;
    if (Array.isArray(known)) {
      // Precomputed once: a literal ring such as ["internal", "beta"] is scanned with ===, as
      // indexOf does (a short scan beats hashing); a longer list becomes a Set.
      const member = known.length <= 8 ? scan(known) : hashed(known);
      const folded = scope.constantOf(needle);
      if (folded !== undefined) return scope.constant(member(folded.value));
      const key = scope.keyOf(needle);
      // `{"in": [{"var": "ring"}, ["internal", "beta"]]}`: the key read in place
      if (key !== undefined) return (d) => member(readKey(d, key));
      return (d, e) => member(needle(d, e));
    }
    const literal = scope.constantsOf([needle, haystack]);
    if (literal !== undefined) return scope.constant(contains(literal[0], literal[1]));
    return (d, e) => {
      let item = needle(d, e);
      const hay = haystack(d, e);
      if (!e.spend(Array.isArray(hay) ? hay.length : textCost(hay))) return null;
      if (typeof hay === 'string' && hay !== '' && Array.isArray(item)) {
        const text = textOf(item, e); // what indexOf would search for, without its recursion
        if (text === undefined) return null;
        item = text;
      }
      return contains(item, hay);
    };
  },
};

function scan(list: readonly unknown[]): (value: unknown) => boolean {
  return (value) => {
    for (let i = 0; i < list.length; i++) if (list[i] === value) return true;
    return false;
  };
}

/** A Set, except that NaN is never found (indexOf uses ===; a literal list holds no NaN anyway). */
function hashed(list: readonly unknown[]): (value: unknown) => boolean {
  const set = new Set<unknown>(list);
  return (value) => set.has(value);
}

function contains(a: unknown, b: unknown): boolean {
  if (!b || typeof (b as { indexOf?: unknown }).indexOf !== 'function') return false;
  return (b as { indexOf(x: unknown): number }).indexOf(a) !== -1;
}

const flatten = (args: readonly unknown[]): unknown[] =>
  args.reduce<unknown[]>((out, v) => out.concat(v), []);

/** `merge`: the arguments, arrays flattened one level; every element merged is paid for. */
const merge: Operator = {
  compile(args, scope) {
    const rules = scope.compileAll(args);
    const known = scope.constantsOf(rules);
    if (known !== undefined) return scope.constant(flatten(known));
    return (d, e) => {
      const values = rules.map((rule) => rule(d, e));
      let size = 0;
      for (const value of values) size += Array.isArray(value) ? value.length : 1;
      return e.spend(size) ? flatten(values) : null;
    };
  },
};

/** @internal */
export const arrayOperators: Readonly<Record<string, Operator>> = {
  map: scoped((items, logic, env) =>
    Array.isArray(items) ? items.map((item) => logic(item, env)) : [],
  ),
  filter: scoped(filter),
  reduce: scoped((items, logic, env, data, [initialRule]) => {
    const initial = initialRule === undefined ? null : initialRule(data, env);
    if (!Array.isArray(items)) return initial;
    return items.reduce(
      (accumulator: unknown, current: unknown) => logic({ current, accumulator }, env),
      initial,
    );
  }),
  all: quantifier(false, false, false),
  none: quantifier(true, true, false),
  some: quantifier(false, true, true),
  merge,
  in: membership,
};
