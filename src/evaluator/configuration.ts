import type { FlagMetadata } from '@openfeature/core';
import type { ValidationIssue } from './errors.js';
import type { FlagValueType } from './types.js';
import { childPath, isObject, typeName } from './json-path.js';
import { expansionMeter, overLimits, type Expansion } from './ref-expansion.js';
import type { FlagTexts } from './flag-texts.js';
import {
  readDefaultVariant,
  readEvaluators,
  readMetadata,
  readVariants,
  reporter,
  type Report,
} from './flag-parts.js';

/** A flag definition that passed the structural checks. @internal */
export interface FlagDefinition {
  readonly key: string;
  readonly path: string;
  readonly state: 'ENABLED' | 'DISABLED';
  /** Variant name → value, frozen; read with {@link variantValue} (own properties only). */
  readonly variants: Readonly<Record<string, unknown>>;
  readonly valueType: FlagValueType;
  /** `undefined` for none: absent, `null`, or `""` as flagd serialises "none". */
  readonly defaultVariant: string | undefined;
  /** Whether the flag has targeting (absent and `{}` mean none). */
  readonly hasTargeting: boolean;
  /** Flag-set metadata overlaid by the flag's metadata, frozen. */
  readonly metadata: FlagMetadata;
  /**
   * The flag as given, as JSON text: its slice of the configuration's text when that was JSON
   * (whitespace and all), else `JSON.stringify` of it. With {@link FlagDefinition.context} it
   * tells whether a later configuration changed the flag ({@link sameDefinition}), and `explain`
   * re-reads the targeting from it: the parsed document itself is not kept once the flag is
   * compiled. A text with a backslash or `$ref` in it is always written by `JSON.stringify`, so
   * `$ref`s are found in it as written there.
   */
  readonly source: string;
  /** The merged metadata and every shared evaluator the flag refers to (transitively), as text. */
  readonly context: string;
}

/** A flag as read, with its targeting (held only while the configuration loads). @internal */
export interface LoadedFlag {
  readonly definition: FlagDefinition;
  /** `undefined` when absent or `{}`. */
  readonly targeting: unknown;
}

/** Whether `name` is one of the flag's variants. @internal */
export function hasVariant(definition: FlagDefinition, name: string): boolean {
  return Object.hasOwn(definition.variants, name);
}

/**
 * Whether two definitions behave the same (same JSON, metadata and shared evaluators). Texts that
 * differ (in whitespace, say) are compared as `JSON.stringify` writes them. @internal
 */
export function sameDefinition(a: FlagDefinition, b: FlagDefinition): boolean {
  if (a.context !== b.context) return false;
  return a.source === b.source || canonical(a.source) === canonical(b.source);
}

const canonical = (source: string): string => JSON.stringify(JSON.parse(source));

/** The targeting of a stored definition, re-read from its text (`explain` uses it). @internal */
export function targetingOf(definition: FlagDefinition): unknown {
  if (!definition.hasTargeting) return undefined;
  return (JSON.parse(definition.source) as { targeting?: unknown }).targeting;
}

/** A configuration that passed the structural checks. @internal */
export interface Configuration {
  readonly flags: readonly LoadedFlag[];
  readonly evaluators: ReadonlyMap<string, unknown>;
  readonly metadata: FlagMetadata;
}

/** Which flagd schema to hold a document to: `flags` (providers, map form only) or `flagd`. */
export type SchemaName = 'flags' | 'flagd';

/** @internal */
export interface ReadOptions {
  readonly schema: SchemaName;
  readonly maxDepth: number;
  /** Most nodes a rule may hold once its `$ref`s are inlined. */
  readonly maxRuleNodes: number;
}

const REF = /"\$ref":("(?:[^"\\]|\\.)*")/g;

/**
 * Checks a parsed document against the structure flagd requires and returns the flags found, with
 * every issue. Only `error` issues are produced here; rule-level warnings come from the linter.
 * @internal
 */
export function readConfiguration(
  doc: unknown,
  options: ReadOptions,
  /** Where each flag's text is in the document's JSON text, when it was parsed from one. */
  flagTexts?: FlagTexts,
): { configuration: Configuration; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const report = reporter(issues);
  const empty: Configuration = { flags: [], evaluators: new Map(), metadata: Object.freeze({}) };
  if (!isObject(doc)) {
    report('', 'type', `a configuration must be an object, not ${typeName(doc)}`);
    return { configuration: empty, issues };
  }
  const metadata = readMetadata(doc['metadata'], 'metadata', report, true);
  const evaluators = readEvaluators(doc['$evaluators'], report);
  const entries = flagEntries(doc, options.schema, report);
  const flags: LoadedFlag[] = [];
  const refText = new Map<string, string>(); // each shared evaluator as text, once per load
  const texts = flagTexts?.texts;
  const escaped = flagTexts?.escaped;
  const set: FlagSet = { metadata, evaluators, refText, interned: new Map() };
  for (const [key, raw, path, at] of entries) {
    // a text with a backslash or `$ref` in it is written by JSON.stringify instead
    const given = escaped?.has(at) === true ? undefined : texts?.get(at);
    const flag = readFlag(key, raw, path, set, options, issues, report, given);
    if (flag !== undefined) flags.push(flag);
  }
  checkExpansion(evaluators, flags, options, report);
  return { configuration: { flags, evaluators, metadata }, issues };
}

/**
 * Refuses rules too big or too deep once their `$ref`s are inlined. Only where a rule first goes
 * over is reported: an evaluator over the limits because one it uses is over is not named again.
 */
function checkExpansion(
  evaluators: ReadonlyMap<string, unknown>,
  flags: readonly LoadedFlag[],
  options: ReadOptions,
  report: Report,
): void {
  if (evaluators.size === 0) return;
  const measure = expansionMeter(evaluators);
  const limits = { maxDepth: options.maxDepth, maxNodes: options.maxRuleNodes };
  const over = new Set<string>();
  const first: [string, NonNullable<ReturnType<typeof overLimits>>, Expansion][] = [];
  for (const [name, rule] of evaluators) {
    const size = measure(rule);
    // `{"$evaluators": {"name": rule}}`: the rule sits two levels down
    const problem = overLimits(size, 2, limits);
    if (problem !== undefined) {
      over.add(name);
      first.push([name, problem, size]);
    }
  }
  for (const [name, problem, size] of first) {
    if ([...size.refs].some((ref) => over.has(ref))) continue;
    report(
      childPath('$evaluators', name),
      problem.rule,
      `shared evaluator "${name}" ${problem.detail}`,
    );
  }
  for (const { definition, targeting } of flags) {
    if (targeting === undefined || !definition.source.includes('"$ref"')) continue;
    const size = measure(targeting);
    // `{"flags": {"key": {"targeting": rule}}}`: three levels down
    const problem = overLimits(size, 3, limits);
    if (problem === undefined || [...size.refs].some((ref) => over.has(ref))) continue;
    const uses = [...size.refs].map((ref) => `"${ref}"`).join(', ');
    report(
      childPath(definition.path, 'targeting'),
      problem.rule,
      `targeting ${problem.detail} (it uses ${uses})`,
    );
  }
}

/** Each flag: its key, its value, its path and where its text is ({@link flagTexts}). */
type FlagEntry = [string, unknown, string, string | number];

function flagEntries(
  doc: Record<string, unknown>,
  schema: SchemaName,
  report: Report,
): FlagEntry[] {
  const flags = doc['flags'];
  if (flags === undefined) {
    report('flags', 'required', 'a configuration must have "flags"');
    return [];
  }
  if (Array.isArray(flags)) {
    if (schema === 'flags') {
      report('flags', 'type', '"flags" must be an object (the array form is for flagd itself)');
      return [];
    }
    const seen = new Set<string>();
    const out: FlagEntry[] = [];
    flags.forEach((flag, i) => {
      const path = childPath('flags', i);
      const key = isObject(flag) ? flag['key'] : undefined;
      if (typeof key !== 'string' || key === '') {
        report(
          childPath(path, 'key'),
          'required',
          'a flag in the array form needs a non-empty "key"',
        );
      } else if (seen.has(key)) {
        report(childPath(path, 'key'), 'unique-key', `flag key "${key}" appears more than once`);
      } else {
        seen.add(key);
        out.push([key, flag, path, i]);
      }
    });
    return out;
  }
  if (!isObject(flags)) {
    report('flags', 'type', `"flags" must be an object, not ${typeName(flags)}`);
    return [];
  }
  return Object.keys(flags).map((key) => [key, flags[key], childPath('flags', key), key]);
}

/** What every flag of one configuration shares. */
interface FlagSet {
  readonly metadata: FlagMetadata;
  readonly evaluators: ReadonlyMap<string, unknown>;
  readonly refText: Map<string, string>;
  /** Merged metadata by its text: flags with the same metadata share one frozen object. */
  readonly interned: Map<string, FlagMetadata>;
}

function readFlag(
  key: string,
  raw: unknown,
  path: string,
  set: FlagSet,
  options: ReadOptions,
  issues: ValidationIssue[],
  /** Reports into `issues` (one reporter for every flag of the load). */
  report: Report,
  given: string | undefined,
): LoadedFlag | undefined {
  const before = issues.length;
  if (key === '') report(path, 'pattern', 'a flag key cannot be empty');
  if (!isObject(raw)) {
    report(path, 'type', `a flag must be an object, not ${typeName(raw)}`);
    return undefined;
  }
  const state = raw['state'];
  if (state === undefined)
    report(childPath(path, 'state'), 'required', 'a flag must have a "state"');
  else if (state !== 'ENABLED' && state !== 'DISABLED') {
    report(
      childPath(path, 'state'),
      'enum',
      `state must be "ENABLED" or "DISABLED", not ${JSON.stringify(state)}`,
    );
  }
  const read = readVariants(raw['variants'], `${path}.variants`, options.maxDepth, report);
  const defaultVariant = readDefaultVariant(raw['defaultVariant'], read?.variants, path, report);
  const targetingRaw = raw['targeting'];
  if (targetingRaw !== undefined && !isObject(targetingRaw)) {
    report(
      childPath(path, 'targeting'),
      'type',
      `targeting must be an object, not ${typeName(targetingRaw)}`,
    );
  }
  const own = readMetadata(raw['metadata'], `${path}.metadata`, report, false);
  if (issues.length > before || read?.valueType === undefined) return undefined;
  const targeting = isObject(targetingRaw) && hasOwnKey(targetingRaw) ? targetingRaw : undefined;
  const merged = { ...set.metadata, ...own };
  const metadataText = JSON.stringify(merged);
  // -0 writes as 0: such metadata is not shared with metadata holding 0
  let shareable = true;
  for (const name in merged) if (Object.is(merged[name], -0)) shareable = false;
  let metadata = shareable ? set.interned.get(metadataText) : undefined;
  if (metadata === undefined) {
    metadata = Object.freeze(merged);
    if (shareable) set.interned.set(metadataText, metadata);
  }
  let source: string;
  if (given !== undefined) source = given;
  else {
    try {
      source = JSON.stringify(raw);
    } catch {
      report(path, 'max-depth', 'flag is nested too deeply to read');
      return undefined;
    }
  }
  const definition: FlagDefinition = {
    key,
    path,
    state: state as 'ENABLED' | 'DISABLED',
    variants: read.variants,
    valueType: read.valueType,
    defaultVariant,
    hasTargeting: targeting !== undefined,
    metadata,
    source,
    context: contextOf(source, metadataText, set),
  };
  return { definition, targeting };
}

/** Whether an object has a key of its own (without listing them all, as `Object.keys` would). */
function hasOwnKey(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/**
 * The merged metadata and every shared evaluator the flag's text refers to, transitively, as text:
 * a change to any of them changes the flag.
 */
function contextOf(source: string, metadataText: string, set: FlagSet): string {
  let text = metadataText;
  if (set.evaluators.size === 0 || !source.includes('"$ref"')) return text;
  const seen = new Set<string>();
  const pending = [source];
  while (pending.length > 0) {
    for (const match of (pending.pop() as string).matchAll(REF)) {
      const name = JSON.parse(match[1] as string) as string;
      if (seen.has(name) || !set.evaluators.has(name)) continue;
      seen.add(name);
      let body = set.refText.get(name);
      if (body === undefined) {
        body = JSON.stringify(set.evaluators.get(name)) ?? '';
        set.refText.set(name, body);
      }
      text += `\u0000${name}\u0000${body}`;
      pending.push(body);
    }
  }
  return text;
}
