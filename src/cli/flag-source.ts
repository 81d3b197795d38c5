import {
  createEvaluator,
  isInvalidConfigurationError,
  type Evaluator,
} from '../evaluator/index.js';
import { flagEntries } from './flag-checks.js';
import { mergeInputs, readFlagFiles, readFromServer, type FlagInput } from './flag-input.js';
import { notFoundMessage } from './near-matches.js';

type Json = Record<string, unknown>;

/** A command-line problem: `usage` ones exit 2, the others 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

/** Flags a command reads: the files merged, or a server's, loaded into an evaluator. */
export interface LoadedFlags {
  /** The files, or the server's URL, for messages. */
  readonly origin: string;
  readonly evaluator: Evaluator;
  /** The flags by key as served: shared evaluators inlined, flag-set metadata merged in. */
  readonly flags: ReadonlyMap<string, Json>;
}

/** Nothing: merged after the inputs, it makes one input inlined and merged as several are. */
const NOTHING: FlagInput = { origin: '(none)', text: '{"flags":{}}' };

/** Loads inputs already read, as `rampflag serve` serves them; a bad one is a {@link CliError}. */
export function loadInputs(inputs: readonly FlagInput[]): LoadedFlags {
  const origin = inputs.map((input) => input.origin).join(', ');
  try {
    const text = mergeInputs([...inputs, NOTHING]);
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    const flags = new Map(flagEntries(JSON.parse(text)).map(([key, flag]) => [key, flag]));
    return { origin, evaluator, flags };
  } catch (error) {
    if (!isInvalidConfigurationError(error)) throw error;
    const lines = error.issues
      .filter((issue) => issue.severity === 'error')
      .slice(0, 10)
      .map((issue) => `\n  ${issue.path || '(root)'}: ${issue.message}`);
    throw new CliError(
      `${origin} is not a valid flag configuration (rampflag validate says more):${lines.join('')}`,
    );
  }
}

/** The `--from` URL or the files (one of them, not both); a {@link CliError} otherwise. */
export async function readInputs(
  files: readonly string[],
  from: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<FlagInput[]> {
  if (from !== undefined && files.length > 0)
    throw new CliError('give flag files or --from <server>, not both', true);
  if (from === undefined && files.length === 0)
    throw new CliError('give flag files, or --from grpc://host:8015 (or http://host:8014)', true);
  try {
    return from === undefined ? await readFlagFiles(files) : [await readFromServer(from, env)];
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** The flag `key` as served, or a {@link CliError} naming the nearest keys. */
export function flagOf(loaded: LoadedFlags, key: string): Json {
  const flag = loaded.flags.get(key);
  if (flag === undefined)
    throw new CliError(`${notFoundMessage(key, [...loaded.flags.keys()])} (in ${loaded.origin})`);
  return flag;
}
