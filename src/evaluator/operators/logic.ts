import type { Operator, Rule } from '../rule.js';
import { eager, truthy } from './eager.js';

/** Truthiness with the boolean results of comparisons settled first. */
const isTrue = (value: unknown): boolean =>
  value === true ? true : value === false ? false : truthy(value);

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
      if (otherwise === undefined) return (d, e) => (isTrue(test(d, e)) ? then(d, e) : null);
      // `if [test, {rule}, "off"]`: the constant else branch is returned, not called
      const known = scope.constantOf(otherwise);
      if (known !== undefined) return orElse(test, then, known.value);
      // `if [test, "on", {rule}]` (a ring, else a rollout): the constant branch is returned
      const thenKnown = scope.constantOf(then);
      if (thenKnown !== undefined) return orThen(test, thenKnown.value, otherwise);
      return (d, e) => (isTrue(test(d, e)) ? then(d, e) : otherwise(d, e));
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
  return (d, e) => (isTrue(test(d, e)) ? then : otherwise);
}

function orElse(test: Rule, then: Rule, otherwise: unknown): Rule {
  return (d, e) => (isTrue(test(d, e)) ? then(d, e) : otherwise);
}

function orThen(test: Rule, then: unknown, otherwise: Rule): Rule {
  return (d, e) => (isTrue(test(d, e)) ? then : otherwise(d, e));
}

/**
 * `and` / `or`: the first falsy (truthy) operand, else the last; `undefined` with none. Two to four
 * operands (the usual audience rule) are unrolled, so each operand is called from a call site of
 * its own rather than from one loop that sees them all.
 */
function shortCircuit(stopWhen: boolean): Operator {
  return {
    compile(args, scope) {
      const rules = scope.compileAll(args);
      const [a, b, c, d] = rules as [Rule, Rule, Rule, Rule];
      switch (rules.length) {
        case 2:
          return stopWhen ? or2(a, b) : and2(a, b);
        case 3:
          return stopWhen ? or3(a, b, c) : and3(a, b, c);
        case 4:
          return stopWhen ? or4(a, b, c, d) : and4(a, b, c, d);
        default:
          return loop(rules, stopWhen);
      }
    },
  };
}

const and2 =
  (a: Rule, b: Rule): Rule =>
  (d, e) => {
    const x = a(d, e);
    return isTrue(x) ? b(d, e) : x;
  };
const and3 =
  (a: Rule, b: Rule, c: Rule): Rule =>
  (d, e) => {
    let x = a(d, e);
    if (!isTrue(x)) return x;
    x = b(d, e);
    return isTrue(x) ? c(d, e) : x;
  };
const and4 =
  (a: Rule, b: Rule, c: Rule, f: Rule): Rule =>
  (d, e) => {
    let x = a(d, e);
    if (!isTrue(x)) return x;
    x = b(d, e);
    if (!isTrue(x)) return x;
    x = c(d, e);
    return isTrue(x) ? f(d, e) : x;
  };
const or2 =
  (a: Rule, b: Rule): Rule =>
  (d, e) => {
    const x = a(d, e);
    return isTrue(x) ? x : b(d, e);
  };
const or3 =
  (a: Rule, b: Rule, c: Rule): Rule =>
  (d, e) => {
    let x = a(d, e);
    if (isTrue(x)) return x;
    x = b(d, e);
    return isTrue(x) ? x : c(d, e);
  };
const or4 =
  (a: Rule, b: Rule, c: Rule, f: Rule): Rule =>
  (d, e) => {
    let x = a(d, e);
    if (isTrue(x)) return x;
    x = b(d, e);
    if (isTrue(x)) return x;
    x = c(d, e);
    return isTrue(x) ? x : f(d, e);
  };

/** Any number of operands. */
function loop(rules: readonly Rule[], stopWhen: boolean): Rule {
  return (d, e) => {
    let current: unknown;
    for (let i = 0; i < rules.length; i++) {
      current = (rules[i] as Rule)(d, e);
      if (isTrue(current) === stopWhen) return current;
    }
    return current;
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
