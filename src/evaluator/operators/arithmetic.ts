import type { Operator } from '../rule.js';
import { coercing } from './coerce.js';

type Num = number;
const float = (value: unknown): number => parseFloat(value as string);

/** @internal */
export const arithmeticOperators: Readonly<Record<string, Operator>> = {
  '+': coercing((...args) => args.reduce<number>((sum, v) => float(sum) + float(v), 0)),
  // Like json-logic-js: no initial value, so one operand comes back as it is and none throws.
  '*': coercing((...args) => args.reduce((product, v) => float(product) * float(v)), {
    oneAsIs: true,
  }),
  '-': coercing((a, b) => (b === undefined ? -(a as Num) : (a as Num) - (b as Num))),
  '/': coercing((a, b) => (a as Num) / (b as Num)),
  '%': coercing((a, b) => (a as Num) % (b as Num)),
  min: coercing((...args) => Math.min(...(args as Num[]))),
  max: coercing((...args) => Math.max(...(args as Num[]))),
};
