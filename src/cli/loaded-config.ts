import {
  createEvaluator,
  isInvalidConfigurationError,
  type Evaluator,
} from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { mergeInputs, readFlagFiles, readFromServer, type FlagInput } from './flag-input.js';
import { validateText } from './validate-file.js';

type Json = Record<string, unknown>;

/** A configuration a command compares or samples: its flags as served, and an evaluator on them. */
export interface LoadedConfig {
  /** The files (joined by ", ") or the server's URL, for messages. */
  readonly origin: string;
  /** Its flags by key as a server serves them: shared `$evaluators` inlined, set metadata merged in. */
  readonly flags: ReadonlyMap<string, Json>;
  /** An evaluator holding the configuration. */
  readonly evaluator: Evaluator;
}

/** A configuration that cannot be read (`unreachable`: a server) or is invalid. */
export class ConfigLoadError extends Error {
  override readonly name = 'ConfigLoadError';
  constructor(
    message: string,
    readonly unreachable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Nothing: merged after a single input, it makes the merge inline `$ref`s as it does for several. */
const NOTHING: FlagInput = { origin: '(nothing)', text: '{"flags":{}}' };

/** The issues of an invalid configuration, one per line, each naming the input and its JSON path. */
function invalidMessage(origin: string, error: unknown): string {
  if (!isInvalidConfigurationError(error)) return `${origin}: ${(error as Error).message}`;
  const lines = error.issues
    .filter((issue) => issue.severity === 'error')
    .slice(0, 20)
    .map((issue) => `  ${issue.path || '(root)'}: ${issue.message} [${issue.rule}]`);
  return `${origin} is not a valid flag configuration:\n${lines.join('\n')}`;
}

/** The errors of each file, located as `file:line:column: path: message`; empty when none is found. */
function locatedErrors(inputs: readonly FlagInput[]): string[] {
  return inputs.flatMap((input) =>
    validateText(input.origin, input.text)
      .issues.filter((issue) => issue.severity === 'error')
      .slice(0, 20)
      .map((issue) => {
        const at = issue.line === undefined ? '' : `:${issue.line}:${issue.column ?? 1}`;
        return `  ${input.origin}${at}: ${issue.path || '(root)'}: ${issue.message} [${issue.rule}]`;
      }),
  );
}

/**
 * Loads already-read inputs; throws a {@link ConfigLoadError} naming the input for a bad one, and,
 * for `files`, each error's line:column.
 */
export function loadInputs(inputs: readonly FlagInput[], files = false): LoadedConfig {
  const origin = inputs.map((input) => input.origin).join(', ');
  let text: string;
  try {
    text = mergeInputs([...inputs, NOTHING]);
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    const flags = (JSON.parse(text) as { flags: unknown }).flags;
    const entries = isObject(flags) ? Object.entries(flags).filter(([, f]) => isObject(f)) : [];
    return { origin, flags: new Map(entries as [string, Json][]), evaluator };
  } catch (error) {
    const located = files ? locatedErrors(inputs) : [];
    const message =
      located.length > 0
        ? `${origin} is not a valid flag configuration:\n${located.join('\n')}`
        : invalidMessage(origin, error);
    throw new ConfigLoadError(message, false, { cause: error });
  }
}

/** Reads and loads flag files, or a server's flags when `from` is given. */
export async function loadConfig(
  source: { readonly files: readonly string[] } | { readonly from: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  let inputs: FlagInput[];
  try {
    inputs =
      'from' in source
        ? [await readFromServer(source.from, env)]
        : await readFlagFiles(source.files);
  } catch (error) {
    throw new ConfigLoadError((error as Error).message, 'from' in source, { cause: error });
  }
  return loadInputs(inputs, !('from' in source));
}

/** `flag` as a server has it, or a {@link ConfigLoadError} naming the flags there are. */
export function flagIn(config: LoadedConfig, flag: string): Json {
  const found = config.flags.get(flag);
  if (found !== undefined) return found;
  const keys = [...config.flags.keys()];
  const near = keys.filter((key) => key.includes(flag) || flag.includes(key)).slice(0, 3);
  const hint =
    near.length > 0
      ? `; did you mean ${near.map((k) => `'${k}'`).join(' or ')}?`
      : keys.length === 0
        ? '; it has no flags'
        : ` (it has ${keys.slice(0, 10).join(', ')}${keys.length > 10 ? ', …' : ''})`;
  throw new ConfigLoadError(`flag '${flag}' is not in ${config.origin}${hint}`, false);
}
