import type { Operator, Rule } from '../rule.js';
import { eager, truthy } from './eager.js';

/** `if` / `?:`: condition, then, (condition, then)*, else?; `null` when nothing matches. */
const ifThenElse: Operator = {
  compile(args, scope) {
    const rules = scope.compileAll(args);
    const pairs = Math.floor(rules.length / 2);
    const otherwise = rules.length % 2 === 1 ? (rules[rules.length - 1] as Rule) : undefined;
    if (pairs === 1) {
      const [test, then] = rules as [Rule, Rule];
      const branches = scope.constantsOf(otherwise === undefined ? [then] : [then, otherwise]);
      // The usual `if [test, "on", "off"]`: constant branches are returned, not called.
      if (branches !== undefined)
        return choose(test, branches[0], branches.length > 1 ? branches[1] : null);
      if (otherwise === undefined) return (d, e) => (truthy(test(d, e)) ? then(d, e) : null);
      return (d, e) => (truthy(test(d, e)) ? then(d, e) : otherwise(d, e));
    }
    return chain(rules, pairs, otherwise);
  },
};

/** `if` with several condition/branch pairs. */
function chain(rules: readonly Rule[], pairs: number, otherwise: Rule | undefined): Rule {
  return (d, e) => {
    for (let i = 0; i < pairs * 2; i += 2) {
      if (truthy((rules[i] as Rule)(d, e))) return (rules[i + 1] as Rule)(d, e);
    }
    return otherwise === undefined ? null : otherwise(d, e);
  };
}

function choose(test: Rule, then: unknown, otherwise: unknown): Rule {
  return (d, e) => (truthy(test(d, e)) ? then : otherwise);
}

/** `and` / `or`: the first falsy (truthy) operand, else the last; `undefined` with none. */
function shortCircuit(stopWhen: boolean): Operator {
  return {
    compile(args, scope) {
      const rules = scope.compileAll(args);
      return (d, e) => {
        let current: unknown;
        for (const rule of rules) {
          current = rule(d, e);
          if (truthy(current) === stopWhen) return current;
        }
        return current;
      };
    },
  };
}

/** @internal */
export const logicOperators: Readonly<Record<string, Operator>> = {
  if: ifThenElse,
  '?:': ifThenElse,
  and: shortCircuit(false),
  or: shortCircuit(true),
  '!': eager((a) => !truthy(a)),
  '!!': eager((a) => truthy(a)),
};
