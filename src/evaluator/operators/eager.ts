import type { Operator, Rule } from '../rule.js';

/** JSON Logic truthiness: an empty array is false, everything else as in JavaScript. @internal */
export function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

/**
 * An operator whose arguments are all evaluated first and handed to `fn`. A pure operator over
 * constant arguments is folded at compile time (unless folding throws: then it throws when run,
 * as json-logic-js does).
 * @internal
 */
export function eager(fn: (...args: unknown[]) => unknown, pure = true): Operator {
  return {
    compile(args, scope) {
      const rules = scope.compileAll(args);
      const known = pure ? scope.constantsOf(rules) : undefined;
      if (known !== undefined) {
        try {
          return scope.constant(fn(...known));
        } catch {
          // fall through: fail at evaluation time like the reference engine
        }
      }
      return call(fn, rules);
    },
  };
}

/**
 * Calls `fn` on the results of `rules`, without an arguments array for up to three. Each arity has
 * a builder of its own, so a closure keeps only the rules it calls.
 * @internal
 */
export function call(fn: (...args: unknown[]) => unknown, rules: readonly Rule[]): Rule {
  switch (rules.length) {
    case 0:
      return () => fn();
    case 1:
      return call1(fn, rules[0] as Rule);
    case 2:
      return call2(fn, rules[0] as Rule, rules[1] as Rule);
    case 3:
      return call3(fn, rules[0] as Rule, rules[1] as Rule, rules[2] as Rule);
    default:
      return (d, e) => fn(...rules.map((rule) => rule(d, e)));
  }
}

const call1 =
  (fn: (a: unknown) => unknown, a: Rule): Rule =>
  (d, e) =>
    fn(a(d, e));
const call2 =
  (fn: (a: unknown, b: unknown) => unknown, a: Rule, b: Rule): Rule =>
  (d, e) =>
    fn(a(d, e), b(d, e));
const call3 =
  (fn: (a: unknown, b: unknown, c: unknown) => unknown, a: Rule, b: Rule, c: Rule): Rule =>
  (d, e) =>
    fn(a(d, e), b(d, e), c(d, e));
