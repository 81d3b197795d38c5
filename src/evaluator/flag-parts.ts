import type { FlagMetadata } from '@openfeature/core';
import type { ValidationIssue } from './errors.js';
import type { FlagValueType } from './types.js';
import { childPath, isObject, typeName } from './json-path.js';

/**
 * Readers for the parts of a flag definition (variants, default variant, metadata, shared
 * evaluators), each reporting what is wrong by JSON path.
 */

/** A JSON path, or a function building it: paths are only built for the issues reported. @internal */
export type Path = string | (() => string);

/** The path a {@link Path} stands for. */
const pathText = (path: Path): string => (typeof path === 'string' ? path : path());
/** Records one `error` issue. @internal */
export type Report = (path: Path, rule: string, message: string) => void;

/** The path of `key` under `path`, built only if an issue is reported. @internal */
export const lazyPath = (path: Path, key: string) => () => childPath(pathText(path), key);

/** A {@link Report} that appends to `issues`. @internal */
export function reporter(issues: ValidationIssue[]): Report {
  return (path, rule, message) =>
    issues.push({
      severity: 'error',
      path: pathText(path),
      rule,
      message,
    });
}

const VARIANT_TYPES = new Set(['boolean', 'string', 'number', 'object']);

/** @internal */
export function readVariants(
  raw: unknown,
  path: Path,
  maxDepth: number,
  report: Report,
):
  | { variants: Readonly<Record<string, unknown>>; valueType: FlagValueType | undefined }
  | undefined {
  if (raw === undefined) return void report(path, 'required', 'a flag must have "variants"');
  if (!isObject(raw))
    return void report(path, 'type', `variants must be an object, not ${typeName(raw)}`);
  const names = Object.keys(raw);
  if (names.length === 0)
    return void report(path, 'minProperties', 'a flag needs at least one variant');
  let valueType: FlagValueType | undefined;
  for (const name of names) {
    const value = raw[name];
    const type = typeName(value);
    if (name === '') report(lazyPath(path, name), 'pattern', 'a variant name cannot be empty');
    if (!VARIANT_TYPES.has(type) || (type === 'number' && !Number.isFinite(value))) {
      report(
        lazyPath(path, name),
        'variant-type',
        `a variant value must be a boolean, string, number or object, not ${type}`,
      );
      continue;
    }
    if (valueType === undefined) valueType = type as FlagValueType;
    else if (valueType !== type) {
      report(
        lazyPath(path, name),
        'variant-type',
        `all variants must have one type: this one is ${type}, the first is ${valueType}`,
      );
    }
    if (type === 'object' && !freezeJson(value, maxDepth, 1)) {
      report(
        lazyPath(path, name),
        'max-depth',
        `variant value is nested deeper than ${maxDepth} levels`,
      );
    }
  }
  // The document is the evaluator's own (parsed from text or copied), so it can be frozen in place.
  return { variants: Object.freeze(raw), valueType };
}

/** @internal */
export function readDefaultVariant(
  raw: unknown,
  variants: Readonly<Record<string, unknown>> | undefined,
  flagPath: Path,
  report: Report,
): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const path = lazyPath(flagPath, 'defaultVariant');
  if (typeof raw !== 'string') {
    return void report(
      path,
      'type',
      `defaultVariant must be a string or null, not ${typeName(raw)}`,
    );
  }
  if (variants !== undefined && !Object.hasOwn(variants, raw)) {
    const names = Object.keys(variants);
    const list = names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', ');
    report(path, 'default-variant', `${JSON.stringify(raw)} is not a variant (${list})`);
  }
  return raw;
}

/** Whether `value` may be a metadata value: a string, a finite number or a boolean. @internal */
export const isMetadataValue = (value: unknown): value is string | number | boolean =>
  typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);

/** Reports a metadata value that {@link isMetadataValue} refuses. @internal */
export const reportMetadataValue = (report: Report, path: Path, value: unknown) =>
  report(
    path,
    'metadata-type',
    `a metadata value must be a string, number or boolean, not ${typeName(value)}`,
  );

/** The flag set's metadata (a flag's own is read, and merged, by the configuration reader). @internal */
export function readSetMetadata(raw: unknown, path: string, report: Report): FlagMetadata {
  if (raw === undefined) return Object.freeze({});
  if (!isObject(raw)) {
    report(path, 'type', `metadata must be an object, not ${typeName(raw)}`);
    return {};
  }
  const entries: [string, string | number | boolean][] = [];
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if ((key === 'flagSetId' || key === 'version') && typeof value !== 'string') {
      report(lazyPath(path, key), 'type', `${key} must be a string, not ${typeName(value)}`);
    } else if (isMetadataValue(value)) entries.push([key, value]);
    else reportMetadataValue(report, lazyPath(path, key), value);
  }
  // fromEntries defines own data properties: a "__proto__" key stays a key.
  return Object.freeze(Object.fromEntries(entries));
}

/** @internal */
export function readEvaluators(raw: unknown, report: Report): ReadonlyMap<string, unknown> {
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
