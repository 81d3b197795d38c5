import type { Command } from 'commander';
import { CommanderError } from 'commander';
import type { CliIo } from './io.js';

/** One `rampflag` command: `run(args, io)` resolves with the exit code. */
export interface CliCommand {
  readonly name: string;
  /** One line for `rampflag --help`. */
  readonly summary: string;
  /** Its operands as `rampflag --help` shows them, e.g. `<files...>`. */
  readonly operands: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** The exit code of bad usage, for every command. */
export const USAGE_EXIT = 2;

/**
 * `command` set up to print through `io` and to return instead of exiting: help and `--version`
 * print to stdout, errors to stderr.
 */
export function forIo(command: Command, io: CliIo): Command {
  return command
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text.replace(/\n$/, '')),
      writeErr: (text) => io.stderr(text.replace(/\n$/, '')),
    })
    .showSuggestionAfterError(true);
}

/**
 * Parses `args` with `command` (built with commander: options, arguments, help), printing through
 * `io`. Resolves with the parsed command, or with an exit code when it printed help (0) or a usage
 * error (2).
 */
export function parse(command: Command, args: readonly string[], io: CliIo): Command | number {
  // its help says "Usage: rampflag diff …", as typed
  if (!command.name().startsWith('rampflag ')) command.name(`rampflag ${command.name()}`);
  try {
    forIo(command, io).parse([...args], { from: 'user' });
    return command;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === 0 ? 0 : USAGE_EXIT;
  }
}
