import type { Operator } from '../rule.js';
import { coercing, textCost } from './coerce.js';

/** `Array.prototype.join`'s view of one value: `null` and `undefined` are empty. */
const joinable = (value: unknown): string => (value == null ? '' : String(value));

/** @internal */
export const stringOperators: Readonly<Record<string, Operator>> = {
  cat: coercing(
    (...args) => {
      let out = '';
      for (const arg of args) out += joinable(arg);
      return out;
    },
    {
      cost: (_args, out) => textCost(out),
      // `cat` of two strings (`[{"var": "$flagd.flagKey"}, {"var": "targetingKey"}]`, the usual
      // bucketing key) without an arguments array; `fractional` may hash the two parts as one
      pair: (a, b, slow, scope) =>
        scope.concatenation([a, b], (d, e) => {
          const x = a(d, e);
          const y = b(d, e);
          if (typeof x !== 'string' || typeof y !== 'string') return slow(e, x, y);
          const out = x + y;
          return e.spend(textCost(out)) ? out : null;
        }),
    },
  ),
  substr: coercing(
    (source, start, end) => {
      const text = String(source);
      if ((end as number) < 0) {
        const rest = text.substr(start as number);
        return rest.substr(0, rest.length + (end as number));
      }
      return text.substr(start as number, end as number);
    },
    { cost: ([source]) => textCost(source) },
  ),
};
