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

/** Calls `fn` on the results of `rules`, without an arguments array for up to three. @internal */
export function call(fn: (...args: unknown[]) => unknown, rules: readonly Rule[]): Rule {
  const [a, b, c] = rules;
  switch (rules.length) {
    case 0:
      return () => fn();
    case 1:
      return (d, e) => fn((a as Rule)(d, e));
    case 2:
      return (d, e) => fn((a as Rule)(d, e), (b as Rule)(d, e));
    case 3:
      return (d, e) => fn((a as Rule)(d, e), (b as Rule)(d, e), (c as Rule)(d, e));
    default:
      return (d, e) => fn(...rules.map((rule) => rule(d, e)));
  }
}
