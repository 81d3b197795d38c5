import type { Operator, Rule } from '../rule.js';

/**
 * `starts_with` / `ends_with`: exactly two string arguments, compared case-sensitively.
 * Anything else is `null` (never `false`), so an enclosing `if` takes its else branch.
 */
function stringComparison(name: string, test: (text: string, affix: string) => boolean): Operator {
  return {
    compile(args, scope) {
      if (args.length !== 2) return wrongCount(name, args.length);
      const text = scope.compile(args[0], `${scope.path}[0]`);
      const affix = scope.compile(args[1], `${scope.path}[1]`) as Rule;
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
