import type { Operator } from '../rule.js';
import { eager } from './eager.js';

// JSON Logic comparisons are JavaScript's, coercions included (json-logic-js is the reference).
type Cmp = number;

/** @internal */
export const comparisonOperators: Readonly<Record<string, Operator>> = {
  // eslint-disable-next-line eqeqeq
  '==': eager((a, b) => a == b),
  '===': eager((a, b) => a === b),
  // eslint-disable-next-line eqeqeq
  '!=': eager((a, b) => a != b),
  '!==': eager((a, b) => a !== b),
  '>': eager((a, b) => (a as Cmp) > (b as Cmp)),
  '>=': eager((a, b) => (a as Cmp) >= (b as Cmp)),
  '<': eager((a, b, c) =>
    c === undefined ? (a as Cmp) < (b as Cmp) : (a as Cmp) < (b as Cmp) && (b as Cmp) < (c as Cmp),
  ),
  '<=': eager((a, b, c) =>
    c === undefined
      ? (a as Cmp) <= (b as Cmp)
      : (a as Cmp) <= (b as Cmp) && (b as Cmp) <= (c as Cmp),
  ),
};
