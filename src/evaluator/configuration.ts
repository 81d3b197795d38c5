import type { FlagMetadata } from '@openfeature/core';
import type { ValidationIssue } from './errors.js';
import type { FlagValueType } from './types.js';
import { childPath, isObject, typeName } from './json-path.js';
import { expansionMeter, overLimits, type Expansion } from './ref-expansion.js';
import type { ReadFlagTexts } from './parse-text.js';
import type { FlagTexts } from './flag-texts.js';
import {
  readDefaultVariant,
  readEvaluators,
  readSetMetadata,
  isMetadataValue,
  reportMetadataValue,
  readVariants,
  lazyPath,
  reporter,
  type Path,
  type Report,
} from './flag-parts.js';

/** A flag definition that passed the structural checks. @internal */
export interface FlagDefinition {
  readonly key: string;
  /** Where the flag is in the array form (`undefined` in the map form); see {@link flagPath}. */
  readonly index: number | undefined;
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

/** The flag's JSON path in its configuration, as issues name it. @internal */
export function flagPath(definition: FlagDefinition): string {
  return childPath('flags', definition.index ?? definition.key);
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
  flagTexts?: ReadFlagTexts,
): { configuration: Configuration; issues: ValidationIssue[] } {
  const flags: LoadedFlag[] = [];
  const { metadata, evaluators, issues } = readFlags(doc, options, flagTexts, {
    flag: (flag) => flags.push(flag),
  });
  return { configuration: { flags, evaluators, metadata }, issues };
}

/** What {@link readFlags} hands each flag to, as it is read. @internal */
export interface FlagSink {
  /** Called with the shared evaluators once they are read, before any flag. */
  begin?(evaluators: ReadonlyMap<string, unknown>): void;
  /** A flag that passed its checks; `clean` is false once the configuration has an issue. */
  flag(flag: LoadedFlag, clean: boolean): void;
}

/**
 * {@link readConfiguration}, handing each flag to `sink` as soon as it is read rather than
 * collecting them: with a document whose flags are parsed one by one ({@link ReadFlagTexts.read}),
 * no more than one flag's parsed form need be alive at a time. @internal
 */
export function readFlags(
  doc: unknown,
  options: ReadOptions,
  flagTexts: ReadFlagTexts | undefined,
  sink: FlagSink,
): { metadata: FlagMetadata; evaluators: ReadonlyMap<string, unknown>; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const report = reporter(issues);
  if (!isObject(doc)) {
    report('', 'type', `a configuration must be an object, not ${typeName(doc)}`);
    return { metadata: Object.freeze({}), evaluators: new Map(), issues };
  }
  const metadata = readSetMetadata(doc['metadata'], 'metadata', report);
  const evaluators = readEvaluators(doc['$evaluators'], report);
  sink.begin?.(evaluators);
  const entries = flagEntries(doc, options.schema, report, flagTexts);
  const withRefs: LoadedFlag[] = []; // flags using shared evaluators, measured once all are read
  const reading: Reading = {
    set: {
      metadata,
      evaluators,
      refText: new Map(), // each shared evaluator as text, once per load
      metadataText: JSON.stringify(metadata),
      interned: metadataNode(),
    },
    options,
    issues,
    report,
    found: flagTexts?.found,
    read: flagTexts?.read,
    withRefs,
    sink,
  };
  const { found } = reading;
  if (Array.isArray(entries)) {
    for (const [key, raw, path, at] of entries) readEntry(reading, key, raw, path, at, at);
  } else {
    const { flags, keys } = entries;
    // the members in the text's order are the keys in their order (no repeated key, and none
    // that Object.keys would list first as an array index), else each is looked up by key
    const inOrder = found !== undefined && !found.indexLike && keys.length === found.count;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const member = inOrder ? i : found?.memberOf(key);
      readEntry(reading, key, flags[key], () => childPath('flags', key), member, undefined);
    }
  }
  checkExpansion(evaluators, withRefs, options, report);
  return { metadata, evaluators, issues };
}

/** What reading each flag of one configuration shares. */
interface Reading {
  readonly set: FlagSet;
  readonly options: ReadOptions;
  readonly issues: ValidationIssue[];
  readonly report: Report;
  readonly found: FlagTexts | undefined;
  readonly read: ((text: string) => unknown) | undefined;
  readonly withRefs: LoadedFlag[];
  readonly sink: FlagSink;
}

/**
 * Reads one flag and hands it on. A function of its own, called once per flag, so that it is
 * optimised after a few flags and stays so from one configuration to the next.
 */
function readEntry(
  reading: Reading,
  key: string,
  raw: unknown,
  path: Path,
  /** Which member of the text's `flags` this flag is, when known. */
  member: number | undefined,
  /** Where the flag is in the array form. */
  index: number | undefined,
): void {
  const { read, issues, set, found } = reading;
  const text = member === undefined ? undefined : found?.text(member);
  // the map form's flags are parsed here, one at a time (the array form's were, for their keys)
  const value =
    read !== undefined && text !== undefined && found?.mapForm === true ? read(text) : raw;
  // a text with a backslash or `$ref` in it is written by JSON.stringify instead
  const given = member !== undefined && found?.escaped(member) === true ? undefined : text;
  const flag = readFlag(
    key,
    index,
    value,
    path,
    set,
    reading.options,
    issues,
    reading.report,
    given,
  );
  if (flag === undefined) return;
  if (
    set.evaluators.size > 0 &&
    flag.targeting !== undefined &&
    flag.definition.source.includes('"$ref"')
  )
    reading.withRefs.push(flag);
  reading.sink.flag(flag, issues.length === 0);
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
    const size = measure(targeting);
    // `{"flags": {"key": {"targeting": rule}}}`: three levels down
    const problem = overLimits(size, 3, limits);
    if (problem === undefined || [...size.refs].some((ref) => over.has(ref))) continue;
    const uses = [...size.refs].map((ref) => `"${ref}"`).join(', ');
    report(
      childPath(flagPath(definition), 'targeting'),
      problem.rule,
      `targeting ${problem.detail} (it uses ${uses})`,
    );
  }
}

/** Each flag of the array form: its key, its value, its path and its index. */
type FlagEntry = [string, unknown, string, number];

function flagEntries(
  doc: Record<string, unknown>,
  schema: SchemaName,
  report: Report,
  flagTexts: ReadFlagTexts | undefined,
): FlagEntry[] | MapForm {
  let flags = doc['flags'];
  const read = flagTexts?.read;
  // the array form is read whole here (each flag's key is in it); every flag is parsed, for a
  // flag that is not JSON makes the whole document's error, before any other
  if (read !== undefined && Array.isArray(flags))
    flags = flags.map((_placeholder, i) => read(flagTexts?.found.text(i) ?? ''));
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
  return { flags, keys: flagTexts?.keys ?? Object.keys(flags) };
}

/** The map form's flags and their keys (each flag's path is made as it is read). */
interface MapForm {
  readonly flags: Record<string, unknown>;
  readonly keys: readonly string[];
}

/** What every flag of one configuration shares. */
interface FlagSet {
  readonly metadata: FlagMetadata;
  readonly evaluators: ReadonlyMap<string, unknown>;
  readonly refText: Map<string, string>;
  /** The flag-set metadata as text. */
  readonly metadataText: string;
  /** Merged metadata by the flag's own: flags with equal metadata share one frozen object. */
  readonly interned: MetadataNode;
}

/**
 * A trie of flags' own metadata, entry by entry in their order (the key, then the value: `1`,
 * `"1"` and `true` apart), holding the merged metadata of the flags that end there.
 */
interface MetadataNode {
  merged: FlagMetadata | undefined;
  next: Map<string, Map<string | number | boolean, MetadataNode>> | undefined;
}

const metadataNode = (): MetadataNode => ({ merged: undefined, next: undefined });

/**
 * A flag's metadata checked (values are strings, finite numbers or booleans) and merged over the
 * flag set's, frozen; flags whose metadata is equal share one object.
 */
function flagMetadata(raw: unknown, flagPath: Path, set: FlagSet, report: Report): FlagMetadata {
  if (raw === undefined) return set.metadata;
  const path = lazyPath(flagPath, 'metadata');
  if (!isObject(raw)) {
    report(path, 'type', `metadata must be an object, not ${typeName(raw)}`);
    return set.metadata;
  }
  let node: MetadataNode | undefined = set.interned;
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (!isMetadataValue(value)) {
      reportMetadataValue(report, lazyPath(path, key), value);
      node = undefined;
      continue;
    }
    if (Object.is(value, -0)) node = undefined; // a Map holds -0 and 0 as one key
    if (node === undefined) continue;
    const next: Map<string, Map<string | number | boolean, MetadataNode>> = (node.next ??=
      new Map());
    let byValue = next.get(key);
    if (byValue === undefined) next.set(key, (byValue = new Map()));
    let child = byValue.get(value);
    if (child === undefined) byValue.set(value, (child = metadataNode()));
    node = child;
  }
  if (node?.merged !== undefined) return node.merged;
  // a spread defines own data properties: a "__proto__" key stays a key
  const merged = Object.freeze({ ...set.metadata, ...(raw as FlagMetadata) });
  if (node !== undefined) node.merged = merged;
  return merged;
}

function readFlag(
  key: string,
  index: number | undefined,
  raw: unknown,
  path: Path,
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
    report(lazyPath(path, 'state'), 'required', 'a flag must have a "state"');
  else if (state !== 'ENABLED' && state !== 'DISABLED') {
    report(
      lazyPath(path, 'state'),
      'enum',
      `state must be "ENABLED" or "DISABLED", not ${JSON.stringify(state)}`,
    );
  }
  const read = readVariants(raw['variants'], lazyPath(path, 'variants'), options.maxDepth, report);
  const defaultVariant = readDefaultVariant(raw['defaultVariant'], read?.variants, path, report);
  const targetingRaw = raw['targeting'];
  if (targetingRaw !== undefined && !isObject(targetingRaw)) {
    report(
      lazyPath(path, 'targeting'),
      'type',
      `targeting must be an object, not ${typeName(targetingRaw)}`,
    );
  }
  const metadata = flagMetadata(raw['metadata'], path, set, report);
  if (issues.length > before || read?.valueType === undefined) return undefined;
  const targeting = isObject(targetingRaw) && hasOwnKey(targetingRaw) ? targetingRaw : undefined;
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
    index,
    state: state === 'ENABLED' ? 'ENABLED' : 'DISABLED', // not the parsed document's string
    variants: read.variants,
    valueType: read.valueType,
    defaultVariant,
    hasTargeting: targeting !== undefined,
    metadata,
    source,
    context: contextOf(source, set),
  };
  return { definition, targeting };
}

/** Whether an object has a key of its own (without listing them all, as `Object.keys` would). */
function hasOwnKey(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/**
 * What a flag's behaviour depends on besides its own text: the flag-set metadata (merged into
 * the flag's) and every shared evaluator the flag's text refers to, transitively, as text. A
 * change to any of them changes the flag.
 */
function contextOf(source: string, set: FlagSet): string {
  let text = set.metadataText;
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
