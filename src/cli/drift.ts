import { Command } from 'commander';
import { parse, USAGE_EXIT } from './command.js';
import { compareFlags, servedFlags } from './drift-compare.js';
import { driftJson, printDrift } from './drift-output.js';
import { readFlagFiles, readFromServer, type FlagInput } from './flag-input.js';
import type { CliIo } from './io.js';

/** `rampflag drift`'s exit code when the files and the server differ. */
export const DRIFT_EXIT = 1;
/** `rampflag drift`'s exit code when the server's flags cannot be read. */
export const UNREACHABLE_EXIT = 3;

const HELP = `
Compares flag by flag, by meaning: key order, formatting, YAML or JSON, the array or the map form,
and shared $evaluators against their inlined rules do not count. Several files are merged as
"rampflag serve" merges them (a later file wins a flag key), and each flag carries its flag set's
metadata, on both sides.

The server:
  grpc://host:8015    flagd's FetchAllFlags (flagd or rampflag serve): everything it serves;
                      ?selector=flagSetId=shop (or source=<file>) picks part of it
  http://host:8014    rampflag serve's management API, GET /admin/flags: one source's stored
                      file (?source=<name> when it serves several); a token with the read role
                      from RAMPFLAG_TOKEN when the server needs one
  FetchAllFlags waits FLAGD_DEADLINE_MS (default 500 ms) for the answer; the management API 10 s.

Rollout state: by default everything counts, "rollout.*" metadata too, so a flag mid-rollout or
an incident freeze is drift (and a note says so). With --ignore-rollout-state:
  - "rollout.*" flag metadata (rollout.id, .status, .step, .percent, .since, .safeVariant, …) and
    the freeze keys (rollout.frozen, rollout.frozenBy, …) are left out on both sides;
  - a flag that records a rollout on either side may differ in "targeting" and "defaultVariant":
    what a running rollout (its weights and rings), a rollback and the kill switch change. Those
    differences are listed as left out, not as drift.
  Variants, state, other metadata, and flags added or removed still count.

Examples:
  rampflag drift flags/*.yaml --from grpc://flagd.prod:8015
  rampflag drift flags.json --from http://localhost:8014 --ignore-rollout-state
  rampflag drift flags.yaml --from 'grpc://flagd:8015?selector=flagSetId=checkout' --json

Exit codes:
  0  in sync
  1  drift: flags missing on the server, extra on the server, or changed
  2  usage, or a flag file that cannot be read or parsed
  3  the server cannot be reached, or refused or failed the read (e.g. 401 without a token)`;

function command(): Command {
  return new Command('drift')
    .usage('<files...> --from <server> [options]')
    .description('does the live server serve exactly what the flag files (git) hold?')
    .argument('<files...>', 'flag files (JSON or YAML), merged as rampflag serve merges them')
    .requiredOption('--from <server>', 'grpc://host:8015 (FetchAllFlags) or http://host:8014')
    .option(
      '--ignore-rollout-state',
      'leave out what rollouts, rollbacks, kills and freezes change',
    )
    .option('--json', 'print the report as JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

/** Whether `url` is one `--from` takes; a usage error otherwise. */
function serverUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `--from "${url}" is not a URL (grpc://host:8015 or http://host:8014)`;
  }
  return ['grpc:', 'grpcs:', 'http:', 'https:'].includes(parsed.protocol)
    ? undefined
    : `--from "${url}": use grpc://host:port (FetchAllFlags) or http://host:port (the management API)`;
}

/** The flags of the files, normalised; a file that cannot be parsed is named. */
function fileFlags(inputs: readonly FlagInput[]) {
  try {
    return servedFlags(inputs);
  } catch (error) {
    // name the file: a JSON syntax error does not
    for (const input of inputs)
      try {
        servedFlags([input]);
      } catch (alone) {
        const message = (alone as Error).message;
        throw new Error(message.includes(input.origin) ? message : `${input.origin}: ${message}`);
      }
    throw error;
  }
}

/**
 * `rampflag drift <files…> --from <server>`: whether a live server serves exactly what the flag
 * files hold. Exit 0 in sync, 1 on drift, 2 on bad usage or an unreadable file, 3 when the server's
 * flags cannot be read.
 */
export async function drift(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parse(command(), args, io);
  if (typeof parsed === 'number') return parsed;
  const opts = parsed.opts<{ from: string; ignoreRolloutState?: boolean; json?: boolean }>();
  const files = parsed.processedArgs[0] as string[];
  const problem = serverUrlProblem(opts.from);
  if (problem !== undefined) {
    io.stderr(`rampflag drift: ${problem}`);
    return USAGE_EXIT;
  }
  let git;
  try {
    git = fileFlags(await readFlagFiles(files));
  } catch (error) {
    io.stderr(`rampflag drift: ${(error as Error).message}`);
    return USAGE_EXIT;
  }
  let served;
  try {
    served = servedFlags([await readFromServer(opts.from, env)]);
  } catch (error) {
    const message = (error as Error).message;
    const named = message.includes(opts.from) ? message : `${opts.from}: ${message}`;
    io.stderr(`rampflag drift: cannot read the server's flags: ${named}`);
    return UNREACHABLE_EXIT;
  }
  const ignoreRolloutState = opts.ignoreRolloutState === true;
  const report = compareFlags(git, served, { ignoreRolloutState });
  const subject = { files, server: opts.from, ignoreRolloutState };
  if (opts.json === true) io.stdout(JSON.stringify(driftJson(subject, report), null, 2));
  else printDrift(io, subject, report);
  return report.drift.length === 0 ? 0 : DRIFT_EXIT;
}
