import type { Operator } from '../rule.js';
import { coercing } from './coerce.js';
import { eager } from './eager.js';

// JSON Logic comparisons are JavaScript's, coercions included (json-logic-js is the reference);
// arrays are turned into text without recursion (see coerce.ts).
type Cmp = number;

/** @internal */
export const comparisonOperators: Readonly<Record<string, Operator>> = {
  // eslint-disable-next-line eqeqeq
  '==': coercing((a, b) => a == b, { loose: true }),
  '===': eager((a, b) => a === b),
  // eslint-disable-next-line eqeqeq
  '!=': coercing((a, b) => a != b, { loose: true }),
  '!==': eager((a, b) => a !== b),
  '>': coercing((a, b) => (a as Cmp) > (b as Cmp)),
  '>=': coercing((a, b) => (a as Cmp) >= (b as Cmp)),
  '<': coercing((a, b, c) =>
    c === undefined ? (a as Cmp) < (b as Cmp) : (a as Cmp) < (b as Cmp) && (b as Cmp) < (c as Cmp),
  ),
  '<=': coercing((a, b, c) =>
    c === undefined
      ? (a as Cmp) <= (b as Cmp)
      : (a as Cmp) <= (b as Cmp) && (b as Cmp) <= (c as Cmp),
  ),
};
