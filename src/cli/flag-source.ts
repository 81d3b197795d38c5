import {
  createEvaluator,
  isInvalidConfigurationError,
  type Evaluator,
} from '../evaluator/index.js';
import { CliError } from './command.js';
import { flagEntries } from './flag-checks.js';
import { mergeInputs, readFlagFiles, readFromServer, type FlagInput } from './flag-input.js';
import { notFoundMessage } from './near-matches.js';

type Json = Record<string, unknown>;

/** Flags a command reads: the files merged, or a server's, loaded into an evaluator. */
export interface LoadedFlags {
  /** The files (joined by ", "), or the server's URL, for messages. */
  readonly origin: string;
  readonly evaluator: Evaluator;
  /** The flags by key as served: shared evaluators inlined, flag-set metadata merged in. */
  readonly flags: ReadonlyMap<string, Json>;
}

/** Where a command's flags come from: files, or a server (`--from`). */
export type FlagOrigin = { readonly files: readonly string[] } | { readonly from: string };

/**
 * Reads the files, or the server's flags; a {@link CliError} with the reason otherwise
 * (`unreachable` for a server).
 */
export async function readFlags(
  origin: FlagOrigin,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FlagInput[]> {
  try {
    return 'from' in origin
      ? [await readFromServer(origin.from, env)]
      : await readFlagFiles(origin.files);
  } catch (error) {
    const kind = 'from' in origin ? 'unreachable' : 'failed';
    throw new CliError((error as Error).message, kind, { cause: error });
  }
}

/** The `--from` URL or the files (one of them, not both), read; a {@link CliError} otherwise. */
export async function readInputs(
  files: readonly string[],
  from: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<FlagInput[]> {
  if (from !== undefined && files.length > 0)
    throw new CliError('give flag files or --from <server>, not both', 'usage');
  if (from === undefined && files.length === 0)
    throw new CliError(
      'give flag files, or --from grpc://host:8015 (or http://host:8014)',
      'usage',
    );
  return readFlags(from === undefined ? { files } : { from }, env);
}

/** Why a configuration (`origin`) cannot be loaded, from what loading it threw. */
export type LoadProblem = (origin: string, error: unknown) => string;

/** Its errors, ten at the most, after a pointer to `rampflag validate`; other errors are rethrown. */
const briefProblem: LoadProblem = (origin, error) => {
  if (!isInvalidConfigurationError(error)) throw error;
  const lines = error.issues
    .filter((issue) => issue.severity === 'error')
    .slice(0, 10)
    .map((issue) => `\n  ${issue.path || '(root)'}: ${issue.message}`);
  return `${origin} is not a valid flag configuration (rampflag validate says more):${lines.join('')}`;
};

/**
 * Loads inputs already read, as `rampflag serve` serves them; a bad one is a {@link CliError}
 * saying what `problem` makes of it.
 */
export function loadInputs(
  inputs: readonly FlagInput[],
  problem: LoadProblem = briefProblem,
): LoadedFlags {
  const origin = inputs.map((input) => input.origin).join(', ');
  try {
    const text = mergeInputs(inputs);
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    const flags = new Map(flagEntries(JSON.parse(text)).map(([key, flag]) => [key, flag]));
    return { origin, evaluator, flags };
  } catch (error) {
    throw new CliError(problem(origin, error), 'failed', { cause: error });
  }
}

/** The flag `key` as served, or a {@link CliError} naming the nearest keys. */
export function flagOf(loaded: LoadedFlags, key: string): Json {
  const flag = loaded.flags.get(key);
  if (flag === undefined)
    throw new CliError(`${notFoundMessage(key, [...loaded.flags.keys()])} (in ${loaded.origin})`);
  return flag;
}
