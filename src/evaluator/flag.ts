import type { FlagDefinition } from './configuration.js';
import type { Operator, Rule } from './rule.js';
import type { EvaluationResult, ResolutionReason } from './types.js';
import { compileRule } from './compile.js';
import { OPERATORS } from './operators/index.js';
import { refOperator } from './operators/ref.js';

/** A flag ready to evaluate: its rule compiled, its successful results built once. @internal */
export interface CompiledFlag {
  readonly definition: FlagDefinition;
  /** `undefined` when the flag has no targeting or its targeting did not compile. */
  readonly rule: Rule | undefined;
  /** Why the targeting did not compile (the flag then evaluates to `PARSE_ERROR`). */
  readonly ruleError: string | undefined;
  /** The frozen `TARGETING_MATCH` result for a variant (built on first use), or `undefined`. */
  match(variant: string): EvaluationResult<unknown> | undefined;
  /** Frozen result for the default variant with reason `STATIC` (no targeting) or `DEFAULT`. */
  readonly byDefault: EvaluationResult<unknown> | undefined;
}

/** @internal */
export interface FlagCompileOptions {
  readonly maxDepth: number;
  readonly warn: (message: string) => void;
  readonly trace?: boolean;
}

/** The operator table for one configuration: the standard set plus `$ref` to its evaluators. */
export function operatorsFor(
  evaluators: ReadonlyMap<string, unknown>,
): ReadonlyMap<string, Operator> {
  return new Map([...OPERATORS, ['$ref', refOperator(evaluators)]]);
}

/** Compiles one flag; a targeting error is kept on the flag, never thrown. @internal */
export function compileFlag(
  definition: FlagDefinition,
  operators: ReadonlyMap<string, Operator>,
  options: FlagCompileOptions,
): CompiledFlag {
  let rule: Rule | undefined;
  let ruleError: string | undefined;
  if (definition.targeting !== undefined) {
    try {
      rule = compileRule(definition.targeting, `${definition.path}.targeting`, {
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
  const { metadata, variants, defaultVariant } = definition;
  const result = (variant: string, reason: ResolutionReason): EvaluationResult<unknown> =>
    Object.freeze({ value: variants.get(variant), variant, reason, flagMetadata: metadata });
  let matches: Map<string, EvaluationResult<unknown>> | undefined;
  const match = (name: string): EvaluationResult<unknown> | undefined => {
    let found = matches?.get(name);
    if (found === undefined && variants.has(name)) {
      found = result(name, 'TARGETING_MATCH');
      (matches ??= new Map()).set(name, found);
    }
    return found;
  };
  const byDefault =
    defaultVariant === undefined
      ? undefined
      : result(defaultVariant, definition.targeting === undefined ? 'STATIC' : 'DEFAULT');
  return { definition, rule, ruleError, match, byDefault };
}
