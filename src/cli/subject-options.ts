import { InvalidArgumentError, type Command } from 'commander';
import { isObject } from '../evaluator/json-path.js';
import { CliError } from './command.js';
import { generatedSubjects, MAX_SUBJECTS, readSubjects, type SubjectSet } from './subjects.js';

type Json = Record<string, unknown>;

/** The subjects options as commander parsed them. */
export interface SubjectOptions {
  readonly subjects?: number;
  readonly subjectsFile?: string;
  readonly context?: Json;
  readonly seed?: number;
}

/** The number of subjects generated when neither `--subjects` nor `--subjects-file` is given. */
export const DEFAULT_SUBJECTS = 10_000;

/** `10000`, `10,000`, `10_000`, `10k` or `1m`, from 1 to {@link MAX_SUBJECTS}. */
export function parseSubjectCount(text: string): number {
  const match = /^(\d[\d_,]*)([kKmM]?)$/.exec(text.trim());
  const n =
    match === null
      ? Number.NaN
      : Number((match[1] as string).replace(/[_,]/g, '')) *
        ({ k: 1e3, m: 1e6 }[(match[2] as string).toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SUBJECTS)
    throw new InvalidArgumentError(
      `a whole number from 1 to ${MAX_SUBJECTS.toLocaleString('en-US')} (10000, 10k, 1m)`,
    );
  return n;
}

/** A JSON object given on the command line. */
export function parseContext(text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(value))
    throw new InvalidArgumentError('a context is a JSON object, e.g. \'{"ring": "canary"}\'');
  return value;
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('a whole number');
  return n;
}

/** Adds `--subjects`, `--subjects-file`, `--context` and `--seed` to `command`. */
export function withSubjectOptions(command: Command): Command {
  return command
    .option(
      '--subjects <n>',
      `generate n subjects, targetingKey subject-0 … subject-<n-1> (default ${DEFAULT_SUBJECTS.toLocaleString('en-US')})`,
      parseSubjectCount,
    )
    .option(
      '--subjects-file <file>',
      'evaluate the contexts of a file instead: one JSON object per line',
    )
    .option(
      '--context <json>',
      'a base context under every subject, e.g. \'{"ring":"canary"}\'',
      parseContext,
    )
    .option(
      '--seed <n>',
      'generate seeded random targeting keys (u-…) instead of subject-<i>',
      parseSeed,
    );
}

/** The subjects the options name; a {@link CliError} for options that conflict or a bad file. */
export async function subjectsFrom(options: SubjectOptions): Promise<SubjectSet> {
  const base = options.context ?? {};
  if (options.subjectsFile === undefined)
    return generatedSubjects(options.subjects ?? DEFAULT_SUBJECTS, base, options.seed);
  if (options.subjects !== undefined || options.seed !== undefined)
    throw new CliError(
      '--subjects-file reads its subjects: it takes neither --subjects nor --seed',
      'usage',
    );
  try {
    return await readSubjects(options.subjectsFile, base);
  } catch (error) {
    throw new CliError((error as Error).message, 'failed', { cause: error });
  }
}
