import {
  createEvaluator,
  isInvalidConfigurationError,
  validateConfiguration,
  type SchemaName,
  type ValidationIssue,
} from '../evaluator/index.js';
import { DEFAULT_LIMITS } from '../evaluator/load.js';
import { parseConfigurationText } from '../evaluator/parse-text.js';
import { flagChecks, flagEntries } from './flag-checks.js';
import { mergeInputs, type FlagInput } from './flag-input.js';
import { locatorFor } from './json-location.js';

/** A validation issue with where it is written in its file (1-based), when that is known. */
export interface LocatedIssue extends ValidationIssue {
  readonly line?: number;
  readonly column?: number;
}

/** What `rampflag validate` found in one file (or in the files merged, `origin` naming them). */
export interface FileReport {
  readonly origin: string;
  /** The flags the file defines (0 when it cannot be parsed). */
  readonly flags: number;
  readonly issues: readonly LocatedIssue[];
}

/** A parse error's message on one line, without the position (printed as line:column instead). */
function oneLine(message: string): string {
  const first = message.split('\n')[0] as string;
  return first
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/ in JSON at position \d+.*$/, '');
}

const SEVERITY_ORDER = { error: 0, warning: 1 } as const;

/**
 * Every issue in one flag file's text: the evaluator's schema errors and warnings
 * (`validateConfiguration`), the checks it does not make ({@link flagChecks}), each located as
 * line:column in the text. Pure.
 */
export function validateText(origin: string, text: string, schema?: SchemaName): FileReport {
  const issues = validateConfiguration(text, schema === undefined ? {} : { schema });
  const locator = locatorFor(text);
  let doc: unknown;
  try {
    doc = parseConfigurationText(text, DEFAULT_LIMITS);
    issues.push(...flagChecks(doc));
  } catch {
    doc = undefined; // the syntax error is among the issues already
  }
  const located = issues.map((issue): LocatedIssue => {
    const at =
      issue.rule === 'syntax' && issue.path === ''
        ? (locator.syntax ?? locator.at(''))
        : locator.at(issue.path);
    const message = issue.rule === 'syntax' ? oneLine(issue.message) : issue.message;
    return { ...issue, message, ...(at === undefined ? {} : at) };
  });
  located.sort(
    (a, b) =>
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0) ||
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
  return { origin, flags: flagEntries(doc).length, issues: located };
}

/**
 * The problems of several valid files served together, as `rampflag serve` merges them (the
 * merged flags over the evaluator's limits, say); none for one file. Pure.
 */
export function validateMerged(inputs: readonly FlagInput[]): FileReport | undefined {
  if (inputs.length < 2) return undefined;
  const origin = inputs.map((input) => input.origin).join(' + ');
  let issues: readonly ValidationIssue[] = [];
  try {
    const merged = mergeInputs(inputs);
    createEvaluator().setConfiguration(merged);
    return { origin, flags: flagEntries(JSON.parse(merged)).length, issues };
  } catch (error) {
    if (!isInvalidConfigurationError(error)) throw error;
    issues = error.issues;
  }
  return { origin, flags: 0, issues };
}
