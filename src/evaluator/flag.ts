import { hasVariant, type FlagDefinition } from './configuration.js';
import type { Operator, Rule } from './rule.js';
import type { EvaluationResult, FractionalBucketing, ResolutionReason } from './types.js';
import { compileRule } from './compile.js';
import { FRACTIONAL_V3_OPERATORS, OPERATORS } from './operators/index.js';
import { refOperator } from './operators/ref.js';

/** A flag ready to evaluate: its rule compiled, its successful results built once. @internal */
export interface CompiledFlag {
  readonly definition: FlagDefinition;
  /** `undefined` when the flag has no targeting or its targeting did not compile. */
  readonly rule: Rule | undefined;
  /** Why the targeting did not compile (the flag then evaluates to `PARSE_ERROR`). */
  readonly ruleError: string | undefined;
  /** Frozen `TARGETING_MATCH` results by variant, built on first use ({@link matchResult}). */
  matches: Map<string, EvaluationResult<unknown>> | undefined;
  /** Frozen result for the default variant with reason `STATIC` (no targeting) or `DEFAULT`. */
  readonly byDefault: EvaluationResult<unknown> | undefined;
}

/** @internal */
export interface FlagCompileOptions {
  readonly maxDepth: number;
  readonly warn: (message: string) => void;
  readonly trace?: boolean;
}

/**
 * The operator table for one configuration: the standard set (with `fractional` of the bucketing
 * chosen) plus `$ref` to its evaluators. Use one table per load: `$ref` compiles each shared
 * evaluator once and hands the rule to every reference.
 */
export function operatorsFor(
  evaluators: ReadonlyMap<string, unknown>,
  limits: { readonly maxDepth: number; readonly maxRuleNodes: number },
  fractional: FractionalBucketing = 'v2',
): ReadonlyMap<string, Operator> {
  const budget = { maxDepth: limits.maxDepth, maxNodes: limits.maxRuleNodes };
  const bucketing = fractional === 'v3' ? FRACTIONAL_V3_OPERATORS : [];
  return new Map([...OPERATORS, ...bucketing, ['$ref', refOperator(evaluators, budget)]]);
}

/** Compiles one flag; a targeting error is kept on the flag, never thrown. @internal */
export function compileFlag(
  definition: FlagDefinition,
  targeting: unknown,
  operators: ReadonlyMap<string, Operator>,
  options: FlagCompileOptions,
): CompiledFlag {
  let rule: Rule | undefined;
  let ruleError: string | undefined;
  if (targeting !== undefined) {
    try {
      rule = compileRule(targeting, `${definition.path}.targeting`, {
        operators,
        maxDepth: options.maxDepth,
        warn: options.warn,
        ...(options.trace === true ? { trace: true } : {}),
      });
    } catch (error) {
      ruleError = (error as Error).message;
      options.warn(`flag "${definition.key}" will evaluate to PARSE_ERROR: ${ruleError}`);
    }
  }
  const byDefault =
    definition.defaultVariant === undefined
      ? undefined
      : resultOf(
          definition,
          definition.defaultVariant,
          definition.hasTargeting ? 'DEFAULT' : 'STATIC',
        );
  return { definition, rule, ruleError, matches: undefined, byDefault };
}

function resultOf(
  definition: FlagDefinition,
  variant: string,
  reason: ResolutionReason,
): EvaluationResult<unknown> {
  return Object.freeze({
    value: definition.variants[variant],
    variant,
    reason,
    flagMetadata: definition.metadata,
  });
}

/** The frozen `TARGETING_MATCH` result for `variant`, or `undefined` when it is no variant. @internal */
export function matchResult(
  flag: CompiledFlag,
  variant: string,
): EvaluationResult<unknown> | undefined {
  let found = flag.matches?.get(variant);
  if (found === undefined && hasVariant(flag.definition, variant)) {
    found = resultOf(flag.definition, variant, 'TARGETING_MATCH');
    (flag.matches ??= new Map()).set(variant, found);
  }
  return found;
}
