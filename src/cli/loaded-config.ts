import { isInvalidConfigurationError } from '../evaluator/index.js';
import { CliError } from './command.js';
import type { FlagInput } from './flag-input.js';
import { loadInputs, readFlags, type FlagOrigin, type LoadedFlags } from './flag-source.js';
import { validateText } from './validate-file.js';

type Json = Record<string, unknown>;

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
 * Reads and loads flag files, or a server's flags, as `rampflag diff` and `distribution` do: a bad
 * configuration is a {@link CliError} naming the input and, for files, each error's line:column.
 */
export async function loadConfig(
  origin: FlagOrigin,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedFlags> {
  const inputs = await readFlags(origin, env);
  return loadInputs(inputs, (joined, error) => {
    const located = 'files' in origin ? locatedErrors(inputs) : [];
    return located.length > 0
      ? `${joined} is not a valid flag configuration:\n${located.join('\n')}`
      : invalidMessage(joined, error);
  });
}

/** `flag` as a server has it, or a {@link CliError} naming the flags there are. */
export function flagIn(config: LoadedFlags, flag: string): Json {
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
  throw new CliError(`flag '${flag}' is not in ${config.origin}${hint}`);
}
