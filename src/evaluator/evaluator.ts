import type { FlagMetadata, JsonValue, Logger } from '@openfeature/core';
import type { TraceEntry } from './rule.js';
import type { Clock, EvaluationResult, EvaluatorOptions, FractionalBucketing } from './types.js';
import { explanation, type Explanation } from './explain.js';
import { targetingOf } from './configuration.js';
import { compileFlag, operatorsFor } from './flag.js';
import { DEFAULT_LIMITS, loadSnapshot, type ConfigurationInput, type Limits } from './load.js';
import { asConfigurationError } from './errors.js';
import { EvaluationEnv, resolve, type Expected } from './resolve.js';
import { FlagStore, type FlagChanges, type Snapshot } from './store.js';

/** The default work budget of one evaluation (see `EvaluatorOptions.maxEvaluationWork`). */
const DEFAULT_EVALUATION_WORK = 100_000;
const SYSTEM_CLOCK: Clock = { now: () => Date.now() };
const SILENT: Logger = { error() {}, warn() {}, info() {}, debug() {} };
const NO_CHANGES: FlagChanges = Object.freeze({ added: [], removed: [], changed: [] });

/** The in-process flagd evaluator. Create one with {@link createEvaluator}. */
export interface Evaluator {
  /**
   * Replaces the configuration (JSON or YAML text, or a parsed object) and returns the flag keys
   * added, removed and changed. Throws `InvalidConfigurationError` (a `ParseError`) naming every
   * problem by JSON path, and then keeps the previous configuration. An identical payload is a
   * no-op, and unchanged flags are not recompiled.
   */
  setConfiguration(input: ConfigurationInput): FlagChanges;
  resolveBoolean(
    flagKey: string,
    defaultValue: boolean,
    context?: object,
  ): EvaluationResult<boolean>;
  resolveString(flagKey: string, defaultValue: string, context?: object): EvaluationResult<string>;
  /** Any finite number. */
  resolveNumber(flagKey: string, defaultValue: number, context?: object): EvaluationResult<number>;
  /** A number that must be a whole number (`10.0` is, `3.14` is a TYPE_MISMATCH). */
  resolveInteger(flagKey: string, defaultValue: number, context?: object): EvaluationResult<number>;
  resolveObject<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context?: object,
  ): EvaluationResult<T>;
  /**
   * Resolves a flag whatever its type: the variant's value, unchecked (for typeless callers such as
   * flagd's `ResolveAll` or OFREP). `value` is `undefined` when no variant applies.
   */
  resolveValue(flagKey: string, context?: object): EvaluationResult<unknown>;
  /** The path through the flag's rule for `context`: steps, fractional buckets, the variant. */
  explain(flagKey: string, context?: object): Explanation;
  /** The keys of the flags in the current configuration. */
  flagKeys(): string[];
  /** The flag-set metadata of the current configuration. */
  readonly metadata: FlagMetadata;
}

class FlagdEvaluator implements Evaluator {
  readonly #store = new FlagStore();
  readonly #env: EvaluationEnv;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #limits: Limits;
  readonly #budget: number;
  readonly #fractional: FractionalBucketing;
  #lastText: string | undefined;
  /** Set while an evaluation runs: a re-entrant call (from a logger, say) gets its own env. */
  #busy = false;

  constructor(options: EvaluatorOptions) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#logger = options.logger ?? SILENT;
    this.#limits = {
      maxBytes: options.maxConfigurationBytes ?? DEFAULT_LIMITS.maxBytes,
      maxDepth: options.maxDepth ?? DEFAULT_LIMITS.maxDepth,
      maxRuleNodes: options.maxRuleNodes ?? DEFAULT_LIMITS.maxRuleNodes,
    };
    this.#budget = options.maxEvaluationWork ?? DEFAULT_EVALUATION_WORK;
    this.#fractional = bucketingOf(options.fractional);
    this.#env = new EvaluationEnv(this.#clock, this.#logger, this.#budget);
  }

  setConfiguration(input: ConfigurationInput): FlagChanges {
    if (typeof input === 'string' && input === this.#lastText) return NO_CHANGES;
    let next: Snapshot;
    try {
      const warn = (message: string) => this.#logger.warn(message);
      const previous = this.#store.snapshot;
      next = loadSnapshot(input, previous, this.#limits, warn, this.#fractional);
    } catch (error) {
      // Nothing but an InvalidConfigurationError leaves: a caller (a source's data handler, the
      // admin API) then keeps the last good flags and reports the problem.
      throw asConfigurationError(error);
    }
    const changes = this.#store.replace(next);
    this.#lastText = typeof input === 'string' ? input : undefined;
    return changes;
  }

  get metadata(): FlagMetadata {
    return this.#store.snapshot.metadata;
  }

  flagKeys(): string[] {
    return [...this.#store.snapshot.flags.keys()];
  }

  resolveBoolean(flagKey: string, defaultValue: boolean, context?: object) {
    return this.#resolve(flagKey, 'boolean', defaultValue, context);
  }

  resolveString(flagKey: string, defaultValue: string, context?: object) {
    return this.#resolve(flagKey, 'string', defaultValue, context);
  }

  resolveNumber(flagKey: string, defaultValue: number, context?: object) {
    return this.#resolve(flagKey, 'number', defaultValue, context);
  }

  resolveInteger(flagKey: string, defaultValue: number, context?: object) {
    return this.#resolve(flagKey, 'integer', defaultValue, context);
  }

  resolveObject<T extends JsonValue>(flagKey: string, defaultValue: T, context?: object) {
    return this.#resolve(flagKey, 'object', defaultValue, context);
  }

  resolveValue(flagKey: string, context?: object) {
    return this.#resolve(flagKey, 'any', undefined, context);
  }

  explain(flagKey: string, context?: object): Explanation {
    const snapshot = this.#store.snapshot;
    const trace: TraceEntry[] = [];
    const env = new EvaluationEnv(this.#clock, this.#logger, this.#budget, trace);
    const flag = snapshot.flags.get(flagKey);
    let traced: Snapshot = snapshot;
    const targeting = flag === undefined ? undefined : targetingOf(flag.definition);
    if (flag !== undefined && targeting !== undefined) {
      // Recompile this one flag with tracing; the hot path stays free of it.
      const operators = operatorsFor(snapshot.evaluators, this.#limits, this.#fractional);
      const tracedFlag = compileFlag(flag.definition, targeting, operators, {
        maxDepth: this.#limits.maxDepth,
        warn: () => undefined,
        trace: true,
      });
      traced = { ...snapshot, flags: new Map([[flagKey, tracedFlag]]) };
    }
    const result = resolve(traced, flagKey, 'any', undefined, context, env);
    return explanation(flagKey, flag?.definition, targeting, result, trace);
  }

  #resolve<T>(flagKey: string, expected: Expected, defaultValue: T, context: object | undefined) {
    const snapshot = this.#store.snapshot;
    if (this.#busy) {
      const env = new EvaluationEnv(this.#clock, this.#logger, this.#budget);
      return resolve(snapshot, flagKey, expected, defaultValue, context, env);
    }
    // resolve() is total (it catches what a rule or a logger inside one throws), so no finally:
    // were it ever to throw, later calls would only take the fresh-env path above.
    this.#busy = true;
    const result = resolve(snapshot, flagKey, expected, defaultValue, context, this.#env);
    this.#busy = false;
    return result;
  }
}

/** The `fractional` option, checked: a misspelt version must not quietly bucket by v2. */
function bucketingOf(option: unknown): FractionalBucketing {
  if (option === undefined || option === 'v2' || option === 'v3') return option ?? 'v2';
  throw new RangeError(`fractional: ${JSON.stringify(option)} is neither 'v2' nor 'v3'`);
}

/**
 * Creates an in-process flagd evaluator.
 *
 * @example
 * import { createEvaluator } from 'rampflag/evaluator';
 * const evaluator = createEvaluator();
 * evaluator.setConfiguration(fs.readFileSync('flags.json', 'utf8'));
 * const { value, variant, reason } = evaluator.resolveBoolean('new-checkout', false, { targetingKey: 'user-42' });
 */
export function createEvaluator(options: EvaluatorOptions = {}): Evaluator {
  return new FlagdEvaluator(options);
}
