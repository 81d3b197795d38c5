import { isObject } from '../evaluator/json-path.js';
import { CliError } from './command.js';

type Json = Record<string, unknown>;

/** A `-c key=value` value: JSON when it parses (`42`, `true`, `["a"]`), else the text itself. */
export function contextValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The evaluation context from `--context '{…}'`, then each `-c key=value` over it, then
 * `--targeting-key`. A {@link CliError} (usage) names what is wrong.
 */
export function contextFrom(options: {
  readonly context?: string;
  readonly contextValue?: readonly string[];
  readonly targetingKey?: string;
}): Json {
  let context: Json = {};
  if (options.context !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.context);
    } catch (error) {
      throw new CliError(`--context is not JSON: ${(error as Error).message}`, 'usage');
    }
    if (!isObject(parsed))
      throw new CliError(
        '--context must be a JSON object, e.g. \'{"targetingKey": "user-42"}\'',
        'usage',
      );
    context = { ...parsed };
  }
  for (const pair of options.contextValue ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`-c "${pair}" is not key=value`, 'usage');
    Object.defineProperty(context, pair.slice(0, at), {
      value: contextValue(pair.slice(at + 1)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (options.targetingKey !== undefined) context['targetingKey'] = options.targetingKey;
  return context;
}
