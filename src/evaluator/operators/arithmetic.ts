import type { Operator } from '../rule.js';
import { eager } from './eager.js';

type Num = number;
const float = (value: unknown): number => parseFloat(value as string);

/** @internal */
export const arithmeticOperators: Readonly<Record<string, Operator>> = {
  '+': eager((...args) => args.reduce<number>((sum, v) => float(sum) + float(v), 0)),
  // Like json-logic-js: no initial value, so one operand comes back as it is and none throws.
  '*': eager((...args) => args.reduce((product, v) => float(product) * float(v))),
  '-': eager((a, b) => (b === undefined ? -(a as Num) : (a as Num) - (b as Num))),
  '/': eager((a, b) => (a as Num) / (b as Num)),
  '%': eager((a, b) => (a as Num) % (b as Num)),
  min: eager((...args) => Math.min(...(args as Num[]))),
  max: eager((...args) => Math.max(...(args as Num[]))),
};
