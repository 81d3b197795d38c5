import type { FlagMetadata } from '@openfeature/core';
import type { ValidationIssue } from './errors.js';
import type { FlagValueType } from './types.js';
import { childPath, isObject, typeName } from './json-path.js';

/** A flag definition that passed the structural checks. @internal */
export interface FlagDefinition {
  readonly key: string;
  readonly path: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly variants: ReadonlyMap<string, unknown>;
  readonly valueType: FlagValueType;
  /** `undefined` for none: absent, `null`, or `""` as flagd serialises "none". */
  readonly defaultVariant: string | undefined;
  /** `undefined` when absent or `{}`. */
  readonly targeting: unknown;
  /** Flag-set metadata overlaid by the flag's metadata, frozen. */
  readonly metadata: FlagMetadata;
  /** The definition as given, and the shared rules it may refer to (for its fingerprint). */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly evaluators: ReadonlyMap<string, unknown>;
  /** Cache of {@link fingerprintOf}; computed when a later configuration is compared. */
  fingerprint: string | undefined;
}

/** A configuration that passed the structural checks. @internal */
export interface Configuration {
  readonly flags: readonly FlagDefinition[];
  readonly evaluators: ReadonlyMap<string, unknown>;
  readonly metadata: FlagMetadata;
}

/** Which flagd schema to hold a document to: `flags` (providers, map form only) or `flagd`. */
export type SchemaName = 'flags' | 'flagd';

/** @internal */
export interface ReadOptions {
  readonly schema: SchemaName;
  readonly maxDepth: number;
}

/** A JSON path, or a function building it: paths are only built for the issues reported. */
type Path = string | (() => string);
type Report = (path: Path, rule: string, message: string) => void;

const variantPath = (path: string, key: string) => () => childPath(path, key);

let unreadable = 0;
const REF = /"\$ref":("(?:[^"\\]|\\.)*")/g;

/**
 * Checks a parsed document against the structure flagd requires and returns the flags found, with
 * every issue. Only `error` issues are produced here; rule-level warnings come from the linter.
 * @internal
 */
export function readConfiguration(
  doc: unknown,
  options: ReadOptions,
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
  const flags: FlagDefinition[] = [];
  for (const [key, raw, path] of entries) {
    const flag = readFlag(key, raw, path, metadata, evaluators, options, issues);
    if (flag !== undefined) flags.push(flag);
  }
  return { configuration: { flags, evaluators, metadata }, issues };
}

function flagEntries(
  doc: Record<string, unknown>,
  schema: SchemaName,
  report: Report,
): [string, unknown, string][] {
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
    const out: [string, unknown, string][] = [];
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
        out.push([key, flag, path]);
      }
    });
    return out;
  }
  if (!isObject(flags)) {
    report('flags', 'type', `"flags" must be an object, not ${typeName(flags)}`);
    return [];
  }
  return Object.keys(flags).map((key) => [key, flags[key], childPath('flags', key)]);
}

function readFlag(
  key: string,
  raw: unknown,
  path: string,
  setMetadata: FlagMetadata,
  evaluators: ReadonlyMap<string, unknown>,
  options: ReadOptions,
  issues: ValidationIssue[],
): FlagDefinition | undefined {
  const before = issues.length;
  const report = reporter(issues);
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
  const read = readVariants(raw['variants'], childPath(path, 'variants'), options.maxDepth, report);
  const defaultVariant = readDefaultVariant(raw['defaultVariant'], read?.variants, path, report);
  const targetingRaw = raw['targeting'];
  if (targetingRaw !== undefined && !isObject(targetingRaw)) {
    report(
      childPath(path, 'targeting'),
      'type',
      `targeting must be an object, not ${typeName(targetingRaw)}`,
    );
  }
  const own = readMetadata(raw['metadata'], childPath(path, 'metadata'), report, false);
  if (issues.length > before || read?.valueType === undefined) return undefined;
  const targeting =
    isObject(targetingRaw) && Object.keys(targetingRaw).length > 0 ? targetingRaw : undefined;
  const metadata = Object.freeze({ ...setMetadata, ...own });
  return {
    key,
    path,
    state: state as 'ENABLED' | 'DISABLED',
    variants: read.variants,
    valueType: read.valueType,
    defaultVariant,
    targeting,
    metadata,
    raw,
    evaluators,
    fingerprint: undefined,
  };
}

/**
 * Everything that determines a flag's behaviour, as text (equal text, equal flag): its definition,
 * its merged metadata and every shared evaluator it refers to, transitively. Computed once, when
 * the flag is first compared with another configuration, not at first load.
 * @internal
 */
export function fingerprintOf(definition: FlagDefinition): string {
  return (definition.fingerprint ??= fingerprint(
    definition.raw,
    definition.metadata,
    definition.evaluators,
  ));
}

function reporter(issues: ValidationIssue[]): Report {
  return (path, rule, message) =>
    issues.push({
      severity: 'error',
      path: typeof path === 'string' ? path : path(),
      rule,
      message,
    });
}

const VARIANT_TYPES = new Set(['boolean', 'string', 'number', 'object']);

function readVariants(
  raw: unknown,
  path: string,
  maxDepth: number,
  report: Report,
): { variants: ReadonlyMap<string, unknown>; valueType: FlagValueType | undefined } | undefined {
  if (raw === undefined) return void report(path, 'required', 'a flag must have "variants"');
  if (!isObject(raw))
    return void report(path, 'type', `variants must be an object, not ${typeName(raw)}`);
  const names = Object.keys(raw);
  if (names.length === 0)
    return void report(path, 'minProperties', 'a flag needs at least one variant');
  const variants = new Map<string, unknown>();
  let valueType: FlagValueType | undefined;
  for (const name of names) {
    const value = raw[name];
    const at = variantPath(path, name);
    const type = typeName(value);
    if (name === '') report(at, 'pattern', 'a variant name cannot be empty');
    if (!VARIANT_TYPES.has(type) || (type === 'number' && !Number.isFinite(value))) {
      report(
        at,
        'variant-type',
        `a variant value must be a boolean, string, number or object, not ${type}`,
      );
      continue;
    }
    if (valueType === undefined) valueType = type as FlagValueType;
    else if (valueType !== type) {
      report(
        at,
        'variant-type',
        `all variants must have one type: this one is ${type}, the first is ${valueType}`,
      );
    }
    if (type === 'object' && !freezeJson(value, maxDepth, 1)) {
      report(at, 'max-depth', `variant value is nested deeper than ${maxDepth} levels`);
    }
    variants.set(name, value);
  }
  return { variants, valueType };
}

function readDefaultVariant(
  raw: unknown,
  variants: ReadonlyMap<string, unknown> | undefined,
  flagPath: string,
  report: Report,
): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const path = childPath(flagPath, 'defaultVariant');
  if (typeof raw !== 'string') {
    return void report(
      path,
      'type',
      `defaultVariant must be a string or null, not ${typeName(raw)}`,
    );
  }
  if (variants !== undefined && !variants.has(raw)) {
    report(path, 'default-variant', `defaultVariant "${raw}" is not one of the flag's variants`);
  }
  return raw;
}

function readMetadata(raw: unknown, path: string, report: Report, isSet: boolean): FlagMetadata {
  if (raw === undefined) return Object.freeze({});
  if (!isObject(raw)) {
    report(path, 'type', `metadata must be an object, not ${typeName(raw)}`);
    return {};
  }
  const entries: [string, string | number | boolean][] = [];
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    const at = variantPath(path, key);
    if (isSet && (key === 'flagSetId' || key === 'version') && typeof value !== 'string') {
      report(at, 'type', `${key} must be a string, not ${typeName(value)}`);
    } else if (typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value)) {
      entries.push([key, value as string | number | boolean]);
    } else {
      report(
        at,
        'metadata-type',
        `a metadata value must be a string, number or boolean, not ${typeName(value)}`,
      );
    }
  }
  // fromEntries defines own data properties: a "__proto__" key stays a key.
  return Object.freeze(Object.fromEntries(entries));
}

function readEvaluators(raw: unknown, report: Report): ReadonlyMap<string, unknown> {
  const evaluators = new Map<string, unknown>();
  if (raw === undefined) return evaluators;
  if (!isObject(raw)) {
    report('$evaluators', 'type', `$evaluators must be an object, not ${typeName(raw)}`);
    return evaluators;
  }
  for (const name of Object.keys(raw)) evaluators.set(name, raw[name]);
  return evaluators;
}

/** Freezes a JSON value in place; `false` when it is nested deeper than `maxDepth`. */
function freezeJson(value: unknown, maxDepth: number, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > maxDepth) return false;
  for (const child of Object.values(value))
    if (!freezeJson(child, maxDepth, depth + 1)) return false;
  Object.freeze(value);
  return true;
}

/**
 * The flag's definition as text, plus its merged metadata and every shared evaluator it refers to
 * (transitively), so that a change to any of them marks the flag as changed.
 */
function fingerprint(
  raw: Record<string, unknown>,
  metadata: FlagMetadata,
  evaluators: ReadonlyMap<string, unknown>,
): string {
  let text: string;
  try {
    text = JSON.stringify(raw) + JSON.stringify(metadata);
  } catch {
    // Too deep for JSON.stringify: a value equal to nothing else, so the flag counts as changed.
    return `\u0000unreadable\u0000${++unreadable}`;
  }
  if (evaluators.size === 0 || !text.includes('"$ref"')) return text;
  const seen = new Set<string>();
  const pending = [text];
  while (pending.length > 0) {
    for (const match of (pending.pop() as string).matchAll(REF)) {
      const name = JSON.parse(match[1] as string) as string;
      if (seen.has(name) || !evaluators.has(name)) continue;
      seen.add(name);
      const body = JSON.stringify(evaluators.get(name)) ?? '';
      text += `\u0000${name}\u0000${body}`;
      pending.push(body);
    }
  }
  return text;
}
