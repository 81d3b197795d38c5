import type { Configuration, SchemaName } from './configuration.js';
import type { ValidationIssue } from './errors.js';
import { flagPath, readConfiguration, readFlags, sameDefinition } from './configuration.js';
import {
  asConfigurationError,
  InvalidConfigurationError,
  isInvalidConfigurationError,
} from './errors.js';
import { objectProblem } from './json-limits.js';
import {
  compileFlag,
  operatorsFor,
  redefined,
  type CompiledFlag,
  type DeferredCompile,
} from './flag.js';
import { compileRule } from './compile.js';
import { isObject } from './json-path.js';
import { RuleError, type Operator } from './rule.js';
import { lintRule } from './lint.js';
import { parseConfiguration, type ReadFlagTexts } from './parse-text.js';
import type { Snapshot } from './store.js';
import type { FractionalBucketing } from './types.js';

/** Limits applied to every configuration. @internal */
export interface Limits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxRuleNodes: number;
}

/** A configuration as text (JSON or YAML) or as an already-parsed object. */
export type ConfigurationInput = string | object;

/** Options of {@link validateConfiguration}. */
export interface ValidateOptions {
  /** `flagd` (default) accepts what rampflag and flagd load, the array form too; `flags` is the providers' schema. */
  readonly schema?: SchemaName;
  readonly maxConfigurationBytes?: number;
  readonly maxDepth?: number;
  readonly maxRuleNodes?: number;
}

/**
 * The document to load, owned by the evaluator: text is parsed; an object is copied through JSON
 * (as flagd round-trips documents), so a caller changing it later cannot reach the loaded flags,
 * and the evaluator may freeze what it keeps. An object is measured first (iteratively): a cycle,
 * nesting past `maxDepth` or more values than `maxBytes` are refused before `JSON.stringify` runs.
 */
function ownCopy(
  input: ConfigurationInput,
  limits: Limits,
): { doc: unknown; flags?: ReadFlagTexts | undefined } {
  if (typeof input === 'string') return parseConfiguration(input, limits);
  let text: string | undefined;
  try {
    const problem = objectProblem(input, limits.maxDepth, limits.maxBytes);
    if (problem !== undefined) refuse(problem.rule, `configuration object: ${problem.message}`);
    text = JSON.stringify(input);
  } catch (error) {
    if (isInvalidConfigurationError(error)) throw error;
    refuse(
      'syntax',
      `configuration object is not serialisable as JSON: ${(error as Error).message}`,
    );
  }
  return parseConfiguration(text ?? 'null', limits);
}

function refuse(rule: string, message: string): never {
  throw new InvalidConfigurationError([{ severity: 'error', path: '', rule, message }]);
}

/** Parses (when text) and structurally checks a configuration; throws when it has errors. @internal */
export function readInput(
  input: ConfigurationInput,
  limits: Limits,
  schema: SchemaName = 'flagd',
): Configuration {
  const { doc, flags } = ownCopy(input, limits);
  const { configuration, issues } = readConfiguration(doc, readOptions(schema, limits), flags);
  if (issues.length > 0) throw new InvalidConfigurationError(issues);
  return configuration;
}

/**
 * Reads a configuration and builds the next snapshot in one pass, reusing the compiled form of
 * every flag whose definition is unchanged: each flag is compiled (or found unchanged) as soon as
 * it is read, so a JSON text's flags are parsed one at a time and each
 * one's parsed form is garbage before the next is read. What compiling says is held back until
 * the whole configuration is found valid: a rejected configuration logs nothing but its issues.
 * Throws an {@link InvalidConfigurationError} as {@link readInput} does. @internal
 */
export function loadSnapshot(
  input: ConfigurationInput,
  previous: Snapshot,
  limits: Limits,
  warn: (message: string) => void,
  fractional: FractionalBucketing = 'v2',
): Snapshot {
  const { doc, flags } = ownCopy(input, limits);
  const said: string[] = []; // what compiling at load says, logged once the configuration is accepted
  // a targeting that compiles without a word is compiled when first evaluated
  const atLoad = { maxDepth: limits.maxDepth, warn: (m: string) => said.push(m), lazy: true };
  const compiled = new Map<string, CompiledFlag>();
  let evaluators: ReadonlyMap<string, unknown> = new Map();
  let deferred: DeferredCompile | undefined; // what a deferred compilation needs, one per load
  const { metadata, issues } = readFlags(doc, readOptions('flagd', limits), flags, {
    begin(shared) {
      evaluators = shared;
      const operators = operatorsFor(shared, limits, fractional);
      deferred = { operators, options: { ...atLoad, warn } };
    },
    flag({ definition, targeting }, clean) {
      // a configuration with an issue is refused: its flags need no compiling
      if (!clean || deferred === undefined) return;
      const old = previous.flags.get(definition.key);
      if (old !== undefined && sameDefinition(old.definition, definition)) {
        // the compiled rule is kept; the new definition replaces the old, whose text is a slice of
        // the previous document (keeping it would keep that whole document alive)
        // (even when the texts are equal: they are equal strings, not the same one)
        compiled.set(definition.key, redefined(old, definition));
        return;
      }
      const flag = compileFlag(definition, targeting, deferred.operators, atLoad, deferred);
      compiled.set(definition.key, flag);
    },
  });
  if (issues.length > 0) throw new InvalidConfigurationError(issues);
  for (const message of said) warn(message);
  return { flags: compiled, metadata, evaluators };
}

/**
 * Every problem in a configuration, without loading it: structural errors (which make
 * `setConfiguration` reject it) and schema warnings (rules flagd loads but that misbehave:
 * unknown operators, unknown `$ref`s, misused flagd operators). Never throws.
 *
 * @example
 * const issues = validateConfiguration(fs.readFileSync('flags.json', 'utf8'));
 * for (const issue of issues) console.log(`${issue.severity} ${issue.path}: ${issue.message}`);
 */
export function validateConfiguration(
  input: ConfigurationInput,
  options: ValidateOptions = {},
): ValidationIssue[] {
  const limits: Limits = {
    maxBytes: options.maxConfigurationBytes ?? DEFAULT_LIMITS.maxBytes,
    maxDepth: options.maxDepth ?? DEFAULT_LIMITS.maxDepth,
    maxRuleNodes: options.maxRuleNodes ?? DEFAULT_LIMITS.maxRuleNodes,
  };
  try {
    return validate(input, options, limits);
  } catch (error) {
    return [...asConfigurationError(error).issues];
  }
}

function validate(
  input: ConfigurationInput,
  options: ValidateOptions,
  limits: Limits,
): ValidationIssue[] {
  const { doc, flags } = ownCopy(input, limits);
  const schema = options.schema ?? declaredSchema(doc) ?? 'flagd';
  const { configuration, issues } = readConfiguration(doc, readOptions(schema, limits), flags);
  const operators = operatorsFor(configuration.evaluators, limits);
  const rules: [unknown, string][] = configuration.flags
    .filter((flag) => flag.targeting !== undefined)
    .map((flag) => [flag.targeting, `${flagPath(flag.definition)}.targeting`]);
  for (const [name, rule] of configuration.evaluators) rules.push([rule, `$evaluators.${name}`]);
  for (const [rule, path] of rules) {
    issues.push(...lintRule(rule, path), ...compileIssues(rule, path, operators, limits.maxDepth));
  }
  return issues;
}

/** A rule's compile failure as a warning (flagd loads it; the flag evaluates to PARSE_ERROR). */
function compileIssues(
  rule: unknown,
  path: string,
  operators: ReadonlyMap<string, Operator>,
  maxDepth: number,
): ValidationIssue[] {
  try {
    compileRule(rule, path, { operators, maxDepth, warn: () => undefined });
    return [];
  } catch (error) {
    if (!(error instanceof RuleError)) throw error;
    return [{ severity: 'warning', path: error.path, rule: error.rule, message: error.detail }];
  }
}

/** The schema a document names in its `$schema` (`…/flags.json` or `…/flagd.json`), if any. */
function declaredSchema(doc: unknown): SchemaName | undefined {
  const declared = isObject(doc) ? doc['$schema'] : undefined;
  if (typeof declared !== 'string') return undefined;
  if (declared.endsWith('/flagd.json') || declared === 'flagd.json') return 'flagd';
  if (declared.endsWith('/flags.json') || declared === 'flags.json') return 'flags';
  return undefined;
}

/**
 * The problems of one targeting rule on its own (as `targeting.json` judges it): unknown operators,
 * nesting, misused flagd operators. A `{"$ref": name}` is checked for form only, since the shared
 * evaluators are not known here. Never throws.
 */
export function validateTargeting(
  rule: unknown,
  options: { maxDepth?: number } = {},
): ValidationIssue[] {
  const issues = lintRule(rule, 'targeting');
  const anyRef = new Map<string, unknown>();
  const operators = new Map(operatorsFor(anyRef, DEFAULT_LIMITS));
  operators.set('$ref', {
    compile(args, scope) {
      if (typeof args[0] !== 'string')
        throw new RuleError('"$ref" must name a shared evaluator', scope.path, 'ref-form');
      return scope.constant(null);
    },
  });
  const maxDepth = options.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  issues.push(...compileIssues(rule, 'targeting', operators, maxDepth));
  return issues;
}

/** @internal */
export const DEFAULT_LIMITS: Limits = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 128,
  maxRuleNodes: 1_000_000,
};

function readOptions(schema: SchemaName, limits: Limits) {
  return { schema, maxDepth: limits.maxDepth, maxRuleNodes: limits.maxRuleNodes };
}
