import type { Operator, Rule } from '../rule.js';
import { RuleError } from '../rule.js';
import { expansionMeter, overLimits, type ExpansionLimits } from '../ref-expansion.js';

/**
 * `{"$ref": "name"}`: the shared rule `$evaluators.name` (flagd substitutes it textually before
 * parsing, which comes to the same). Each shared evaluator is compiled once per table, the first
 * time it is referenced, and the rule is reused by every other reference: a chain of evaluators
 * that each use the previous twice compiles in linear time. One that would be over the limits once
 * inlined is never compiled. An unknown name or a cycle makes the flag's targeting a `PARSE_ERROR`.
 */
export function refOperator(
  evaluators: ReadonlyMap<string, unknown>,
  limits: ExpansionLimits,
): Operator {
  const active = new Set<string>();
  // a shared evaluator's rule, and its value when constant: what is known at compile time lives
  // in one compilation, so each flag referring to a constant evaluator is told again
  const compiled = new Map<
    string,
    { rule: Rule; known: { value: unknown } | undefined } | RuleError
  >();
  const measure = expansionMeter(evaluators);
  return {
    // a shared evaluator is compiled once per load, and its problems are reported there
    mayWarn: () => true,
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
      const key = scope.tracing ? `\u0000${name}` : name; // traced rules are kept apart
      let entry = compiled.get(key);
      if (entry === undefined) {
        const rule = compileOnce(name, evaluators.get(name), scope, active, measure, limits);
        entry = rule instanceof RuleError ? rule : { rule, known: scope.constantOf(rule) };
        compiled.set(key, entry);
      }
      if (entry instanceof RuleError) throw entry;
      return entry.known === undefined ? entry.rule : scope.constant(entry.known.value);
    },
  };
}

/** The evaluator's rule, or why it cannot have one (the same for every reference). */
function compileOnce(
  name: string,
  body: unknown,
  scope: Parameters<Operator['compile']>[1],
  active: Set<string>,
  measure: ReturnType<typeof expansionMeter>,
  limits: ExpansionLimits,
): Rule | RuleError {
  const path = `$evaluators.${name}`;
  const problem = overLimits(measure(body), 0, limits);
  if (problem !== undefined)
    return new RuleError(`shared evaluator "${name}" ${problem.detail}`, path, problem.rule);
  active.add(name);
  try {
    return scope.compileShared(body, path);
  } catch (error) {
    if (error instanceof RuleError) return error;
    throw error;
  } finally {
    active.delete(name);
  }
}
