import { ErrorCode } from '@openfeature/core';
import type { Logger } from '@openfeature/core';
import { compileDeferred, defaultResultOf, matchResult, type CompiledFlag } from './flag.js';
import type { Env, TraceEntry } from './rule.js';
import type { Snapshot } from './store.js';
import type { Clock, EvaluationResult, FlagValueType } from './types.js';
import { typeName } from './json-path.js';

const EMPTY = Object.freeze({});

/** The type a caller asks for; `any` skips the check (used by `explain`). @internal */
export type Expected = FlagValueType | 'integer' | 'any';

/** A reusable evaluation environment; `$flagd.timestamp` is read from the clock once per call. @internal */
export class EvaluationEnv implements Env {
  flagKey = '';
  root: unknown = undefined;
  #seconds = -1;
  #left: number;
  readonly trace: TraceEntry[] | undefined;

  constructor(
    private readonly clock: Clock,
    readonly logger: Logger,
    /** The work budget of one evaluation ({@link Env.spend}). */
    readonly budget: number,
    trace?: TraceEntry[],
  ) {
    this.trace = trace;
    this.#left = budget;
  }

  reset(flagKey: string, root: unknown): this {
    this.flagKey = flagKey;
    this.root = root;
    this.#seconds = -1;
    this.#left = this.budget;
    return this;
  }

  spend(units: number): boolean {
    this.#left -= units;
    return this.#left >= 0;
  }

  /** Whether the evaluation ran out of its work budget. */
  get exhausted(): boolean {
    return this.#left < 0;
  }

  timestamp(): number {
    if (this.#seconds < 0) this.#seconds = Math.floor(this.clock.now() / 1000);
    return this.#seconds;
  }
}

function failure<T>(
  value: T,
  errorCode: ErrorCode,
  errorMessage: string,
  flagMetadata: EvaluationResult<T>['flagMetadata'],
): EvaluationResult<T> {
  return { value, reason: 'ERROR', errorCode, errorMessage, flagMetadata };
}

function matchesType(value: unknown, expected: Expected): boolean {
  if (expected === 'any') return true;
  if (expected === 'integer') return Number.isInteger(value);
  if (expected === 'object') return typeName(value) === 'object';
  return typeof value === expected;
}

function typed<T>(
  result: EvaluationResult<unknown>,
  expected: Expected,
  defaultValue: T,
  key: string,
): EvaluationResult<T> {
  if (matchesType(result.value, expected)) return result as EvaluationResult<T>;
  const message = `flag "${key}" is ${typeName(result.value)}-valued (variant "${result.variant}"), not ${expected}`;
  return failure(defaultValue, ErrorCode.TYPE_MISMATCH, message, result.flagMetadata);
}

/** The variant a targeting result names: strings as they are, booleans and numbers as text. */
function variantName(result: unknown): string | undefined {
  switch (typeof result) {
    case 'string':
      return result;
    case 'boolean':
    case 'number':
      return String(result);
    default:
      return undefined;
  }
}

/**
 * Resolves one flag exactly as flagd does (see flagd-spec §b.2). Total: every failure is a result
 * with reason `ERROR`, an error code and a message.
 * @internal
 */
export function resolve<T>(
  snapshot: Snapshot,
  flagKey: string,
  expected: Expected,
  defaultValue: T,
  context: unknown,
  env: EvaluationEnv,
): EvaluationResult<T> {
  const flag = snapshot.flags.get(flagKey);
  if (flag === undefined) {
    return failure(
      defaultValue,
      ErrorCode.FLAG_NOT_FOUND,
      `flag "${flagKey}" not found`,
      snapshot.metadata,
    );
  }
  const { definition } = flag;
  const metadata = definition.metadata;
  if (definition.state === 'DISABLED')
    return { value: defaultValue, reason: 'DISABLED', flagMetadata: metadata };
  if (flag.ruleError !== undefined) {
    return failure(defaultValue, ErrorCode.PARSE_ERROR, flag.ruleError, metadata);
  }
  let rule = flag.rule;
  if (rule === undefined) {
    if (flag.deferred === undefined) return byDefault(flag, expected, defaultValue);
    rule = compileDeferred(flag);
    if (rule === undefined) {
      const message = flag.ruleError ?? `targeting of flag "${flagKey}" did not compile`;
      return failure(defaultValue, ErrorCode.PARSE_ERROR, message, metadata);
    }
  }
  let outcome: unknown;
  const data = context ?? EMPTY;
  try {
    outcome = rule(data, env.reset(flagKey, data));
  } catch (error) {
    if (env.exhausted) return overBudget(flagKey, defaultValue, env, metadata);
    const message = `targeting of flag "${flagKey}" failed: ${(error as Error).message}`;
    return failure(defaultValue, ErrorCode.PARSE_ERROR, message, metadata);
  }
  if (env.exhausted) return overBudget(flagKey, defaultValue, env, metadata);
  if (outcome === null || outcome === undefined) return byDefault(flag, expected, defaultValue);
  const name = variantName(outcome);
  const match = name === undefined ? undefined : matchResult(flag, name);
  if (match === undefined) {
    const what = name === undefined ? `a ${typeName(outcome)}` : `variant "${name}"`;
    const message = `targeting of flag "${flagKey}" returned ${what}, which is not one of its variants`;
    return failure(defaultValue, ErrorCode.GENERAL, message, metadata);
  }
  return typed(match, expected, defaultValue, flagKey);
}

function overBudget<T>(
  flagKey: string,
  defaultValue: T,
  env: EvaluationEnv,
  metadata: EvaluationResult<T>['flagMetadata'],
): EvaluationResult<T> {
  const message = `targeting of flag "${flagKey}" gave up: it needs more than the evaluation work budget of ${env.budget} units (maxEvaluationWork)`;
  return failure(defaultValue, ErrorCode.GENERAL, message, metadata);
}

function byDefault<T>(
  flag: CompiledFlag,
  expected: Expected,
  defaultValue: T,
): EvaluationResult<T> {
  const result = flag.byDefault ?? defaultResultOf(flag);
  if (result === undefined) {
    return { value: defaultValue, reason: 'DEFAULT', flagMetadata: flag.definition.metadata };
  }
  return typed(result, expected, defaultValue, flag.definition.key);
}
