import type { Operator, Rule } from '../rule.js';
import { readKey } from './coerce.js';

/**
 * `starts_with` / `ends_with`: exactly two string arguments, compared case-sensitively.
 * Anything else is `null` (never `false`), so an enclosing `if` takes its else branch.
 */
function stringComparison(name: string, test: (text: string, affix: string) => boolean): Operator {
  return {
    compile(args, scope) {
      if (args.length !== 2) return wrongCount(name, args.length);
      const text = scope.compileArg(args, 0);
      const affix = scope.compileArg(args, 1) as Rule;
      const key = scope.keyOf(text);
      const literal = scope.constantOf(affix)?.value;
      if (key !== undefined && typeof literal === 'string') return keyed(name, test, key, literal);
      return (data, env) => {
        const a = text(data, env);
        const b = affix(data, env);
        if (typeof a !== 'string' || typeof b !== 'string') {
          env.logger.debug(`${name}: both arguments must be strings`);
          return null;
        }
        return test(a, b);
      };
    },
  };
}

/** `[{"var": key}, "literal"]`, the usual form: the key read in place, no closure per argument. */
function keyed(
  name: string,
  test: (text: string, affix: string) => boolean,
  key: string,
  affix: string,
): Rule {
  return (data, env) => {
    const text = readKey(data, key);
    if (typeof text === 'string') return test(text, affix);
    env.logger.debug(`${name}: both arguments must be strings`);
    return null;
  };
}

function wrongCount(name: string, count: number): Rule {
  return (_data, env) => {
    env.logger.debug(`${name}: expected 2 arguments, got ${count}`);
    return null;
  };
}

/** @internal */
export const stringComparisonOperators: Readonly<Record<string, Operator>> = {
  starts_with: stringComparison('starts_with', (text, prefix) => text.startsWith(prefix)),
  ends_with: stringComparison('ends_with', (text, suffix) => text.endsWith(suffix)),
};
