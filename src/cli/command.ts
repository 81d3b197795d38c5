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
/** The exit code when a server cannot be read, for the commands that tell it apart. */
export const UNREACHABLE_EXIT = 3;
/** The exit code when Ctrl-C (the signal) stopped a command. */
export const STOPPED_EXIT = 130;

/**
 * How a command failed: bad `usage`, a server `unreachable`, `stopped` by the signal, or `failed`
 * otherwise (a file that cannot be read, an invalid configuration, an unknown flag).
 */
export type CliErrorKind = 'usage' | 'unreachable' | 'stopped' | 'failed';

/** A command-line problem, printed as `rampflag <command>: <message>`; its kind picks the exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly kind: CliErrorKind = 'failed',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Whether `error` is a {@link CliError} (by name: a dual build carries two copies of the class). */
export function isCliError(error: unknown): error is CliError {
  return error instanceof Error && error.name === 'CliError';
}

/**
 * A command's exit codes for a {@link CliError}: `failed` for a failure, `unreachable` for a server
 * that cannot be read (else `failed`). Usage is always {@link USAGE_EXIT}, a stop {@link STOPPED_EXIT}.
 */
export interface FailureExits {
  readonly failed: number;
  readonly unreachable?: number;
}

/** The exits of most commands: any failure but bad usage exits 1. */
export const FAILURE_EXITS: FailureExits = { failed: 1 };

/**
 * The exits of the commands that read flag files, or subjects, to compare or count: a file that
 * cannot be read or is invalid is bad usage ({@link USAGE_EXIT}); a server, {@link UNREACHABLE_EXIT}.
 */
export const INPUT_EXITS: FailureExits = { failed: USAGE_EXIT, unreachable: UNREACHABLE_EXIT };

/** The exit code of `error` under `exits`. */
function exitOf(error: CliError, exits: FailureExits): number {
  switch (error.kind) {
    case 'usage':
      return USAGE_EXIT;
    case 'stopped':
      return STOPPED_EXIT;
    case 'unreachable':
      return exits.unreachable ?? exits.failed;
    default:
      return exits.failed;
  }
}

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

/**
 * Runs a command: parses `args` with `command` (see {@link parse}) and resolves with what `body`
 * resolves for the parsed command. A {@link CliError} from `body` is printed to stderr as
 * `rampflag <command>: <message>` and resolves with its exit code under `exits`; other errors
 * reject.
 */
export async function runCommand(
  command: Command,
  args: readonly string[],
  io: CliIo,
  exits: FailureExits,
  body: (parsed: Command) => number | Promise<number>,
): Promise<number> {
  const parsed = parse(command, args, io);
  if (typeof parsed === 'number') return parsed;
  try {
    return await body(parsed);
  } catch (error) {
    if (!isCliError(error)) throw error;
    io.stderr(`${parsed.name()}: ${error.message}`);
    return exitOf(error, exits);
  }
}
