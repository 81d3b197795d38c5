import { flagPath, hasVariant, targetingOf, type FlagDefinition } from './configuration.js';
import { compilesQuietly } from './rule-check.js';
import type { Operator, Rule } from './rule.js';
import type { EvaluationResult, FractionalBucketing, ResolutionReason } from './types.js';
import { compileRule } from './compile.js';
import { FRACTIONAL_V3_OPERATORS, OPERATORS } from './operators/index.js';
import { refOperator } from './operators/ref.js';

/** A flag ready to evaluate: its rule compiled, its successful results built once. @internal */
export interface CompiledFlag {
  readonly definition: FlagDefinition;
  /**
   * `undefined` when the flag has no targeting, its targeting did not compile, or it is compiled
   * on first evaluation ({@link CompiledFlag.deferred}).
   */
  rule: Rule | undefined;
  /** Why the targeting did not compile (the flag then evaluates to `PARSE_ERROR`). */
  ruleError: string | undefined;
  /**
   * Set while the targeting awaits compiling: at load it was found to compile without a warning
   * or an error ({@link compilesQuietly}), so nothing is lost by compiling it when first used.
   */
  deferred: DeferredCompile | undefined;
  /** Frozen `TARGETING_MATCH` results by variant, built on first use ({@link matchResult}). */
  matches: Map<string, EvaluationResult<unknown>> | undefined;
  /**
   * Frozen result for the default variant with reason `STATIC` (no targeting) or `DEFAULT`, built
   * on first use ({@link defaultResultOf}).
   */
  byDefault: EvaluationResult<unknown> | undefined;
}

/** @internal */
export interface FlagCompileOptions {
  readonly maxDepth: number;
  readonly warn: (message: string) => void;
  readonly trace?: boolean;
  /** Compile a targeting that is certain to compile quietly when first evaluated. */
  readonly lazy?: boolean;
}

/** What a deferred compilation needs: the load's operator table and limits (one per load). @internal */
export interface DeferredCompile {
  readonly operators: ReadonlyMap<string, Operator>;
  readonly options: FlagCompileOptions;
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
  /** What a deferred compilation needs, shared by every flag of one load (else made here). */
  deferred?: DeferredCompile,
): CompiledFlag {
  const flag: CompiledFlag = {
    definition,
    rule: undefined,
    ruleError: undefined,
    deferred: undefined,
    matches: undefined,
    byDefault: undefined,
  };
  if (targeting === undefined) return flag;
  if (options.lazy === true && compilesQuietly(targeting, operators, options.maxDepth)) {
    flag.deferred = deferred ?? { operators, options };
    return flag;
  }
  compileInto(flag, targeting, operators, options);
  return flag;
}

function compileInto(
  flag: CompiledFlag,
  targeting: unknown,
  operators: ReadonlyMap<string, Operator>,
  options: FlagCompileOptions,
): void {
  const { definition } = flag;
  try {
    flag.rule = compileRule(targeting, `${flagPath(definition)}.targeting`, {
      operators,
      maxDepth: options.maxDepth,
      warn: options.warn,
      ...(options.trace === true ? { trace: true } : {}),
    });
  } catch (error) {
    flag.ruleError = (error as Error).message;
    options.warn(`flag "${definition.key}" will evaluate to PARSE_ERROR: ${flag.ruleError}`);
  }
}

/**
 * Compiles a deferred flag's targeting now, re-read from its text (the parsed document is not
 * kept), and returns the rule (`undefined` with {@link CompiledFlag.ruleError} set if it failed
 * after all). @internal
 */
export function compileDeferred(flag: CompiledFlag): Rule | undefined {
  const deferred = flag.deferred;
  if (deferred === undefined) return flag.rule;
  flag.deferred = undefined;
  let targeting: unknown;
  try {
    targeting = targetingOf(flag.definition);
  } catch (error) {
    // cannot happen (the text was read as JSON at load); kept total as resolve() must be
    flag.ruleError = `targeting of flag "${flag.definition.key}" cannot be re-read: ${(error as Error).message}`;
    return undefined;
  }
  compileInto(flag, targeting, deferred.operators, deferred.options);
  return flag.rule;
}

/** A compiled flag with an equivalent definition ({@link sameDefinition}) in place of its own. @internal */
export function redefined(flag: CompiledFlag, definition: FlagDefinition): CompiledFlag {
  return {
    definition,
    rule: flag.rule,
    ruleError: flag.ruleError,
    deferred: flag.deferred,
    matches: undefined,
    byDefault: undefined,
  };
}

/**
 * The frozen result for the flag's default variant, or `undefined` when it has none (the caller's
 * default then applies). @internal
 */
export function defaultResultOf(flag: CompiledFlag): EvaluationResult<unknown> | undefined {
  const { definition } = flag;
  if (flag.byDefault !== undefined || definition.defaultVariant === undefined)
    return flag.byDefault;
  const reason = definition.hasTargeting ? 'DEFAULT' : 'STATIC';
  return (flag.byDefault = resultOf(definition, definition.defaultVariant, reason));
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
