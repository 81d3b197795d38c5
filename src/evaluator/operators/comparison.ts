import type { Operator } from '../rule.js';
import { coercing, readKey, type KeyedBuilder } from './coerce.js';
import { eager } from './eager.js';

// JSON Logic comparisons are JavaScript's, coercions included (json-logic-js is the reference);
// arrays are turned into text without recursion (see coerce.ts).
type Cmp = number;

const isObjectValue = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;

// One builder per operator, so each compiled comparison is a closure of its own kind that V8 can
// inline where it is called. `literal OP x` is `x OP' literal` with OP' the mirror of OP: both
// sides are primitives there, so the coercions are the same.
/* eslint-disable eqeqeq */
const keyedEq: KeyedBuilder = (key, c, slow) => (d, e) => {
  const x = readKey(d, key);
  return isObjectValue(x) ? slow(e, x) : x == c;
};
const keyedNe: KeyedBuilder = (key, c, slow) => (d, e) => {
  const x = readKey(d, key);
  return isObjectValue(x) ? slow(e, x) : x != c;
};
/* eslint-enable eqeqeq */
const keyedGt: KeyedBuilder = (key, c, slow) => (d, e) => {
  const x = readKey(d, key);
  return isObjectValue(x) ? slow(e, x) : (x as Cmp) > (c as Cmp);
};
const keyedGe: KeyedBuilder = (key, c, slow) => (d, e) => {
  const x = readKey(d, key);
  return isObjectValue(x) ? slow(e, x) : (x as Cmp) >= (c as Cmp);
};
const keyedLt: KeyedBuilder = (key, c, slow) => (d, e) => {
  const x = readKey(d, key);
  return isObjectValue(x) ? slow(e, x) : (x as Cmp) < (c as Cmp);
};
const keyedLe: KeyedBuilder = (key, c, slow) => (d, e) => {
  const x = readKey(d, key);
  return isObjectValue(x) ? slow(e, x) : (x as Cmp) <= (c as Cmp);
};

/** @internal */
export const comparisonOperators: Readonly<Record<string, Operator>> = {
  // eslint-disable-next-line eqeqeq
  '==': coercing((a, b) => a == b, { loose: true, keyed: keyedEq, keyedFlipped: keyedEq }),
  '===': eager((a, b) => a === b),
  // eslint-disable-next-line eqeqeq
  '!=': coercing((a, b) => a != b, { loose: true, keyed: keyedNe, keyedFlipped: keyedNe }),
  '!==': eager((a, b) => a !== b),
  '>': coercing((a, b) => (a as Cmp) > (b as Cmp), { keyed: keyedGt, keyedFlipped: keyedLt }),
  '>=': coercing((a, b) => (a as Cmp) >= (b as Cmp), { keyed: keyedGe, keyedFlipped: keyedLe }),
  '<': coercing(
    (a, b, c) =>
      c === undefined
        ? (a as Cmp) < (b as Cmp)
        : (a as Cmp) < (b as Cmp) && (b as Cmp) < (c as Cmp),
    { keyed: keyedLt, keyedFlipped: keyedGt },
  ),
  '<=': coercing(
    (a, b, c) =>
      c === undefined
        ? (a as Cmp) <= (b as Cmp)
        : (a as Cmp) <= (b as Cmp) && (b as Cmp) <= (c as Cmp),
    { keyed: keyedLe, keyedFlipped: keyedGe },
  ),
};
