import type { Operator } from '../rule.js';
import { RuleError } from '../rule.js';

/**
 * `{"$ref": "name"}`: the shared rule `$evaluators.name`, compiled in place (flagd substitutes it
 * textually before parsing, which comes to the same). An unknown name or a cycle makes the flag's
 * targeting a `PARSE_ERROR`.
 */
export function refOperator(evaluators: ReadonlyMap<string, unknown>): Operator {
  const active = new Set<string>();
  return {
    compile(args, scope) {
      const name = args[0];
      if (typeof name !== 'string' || !evaluators.has(name)) {
        throw new RuleError(
          `unknown shared evaluator ${JSON.stringify(name)}`,
          scope.path,
          'unknown-ref',
        );
      }
      if (active.has(name))
        throw new RuleError(`shared evaluator "${name}" refers to itself`, scope.path, 'ref-cycle');
      active.add(name);
      try {
        return scope.compile(evaluators.get(name), `$evaluators.${name}`);
      } finally {
        active.delete(name);
      }
    },
  };
}
