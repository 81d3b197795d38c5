import { Command } from 'commander';
import { CliError, INPUT_EXITS, runCommand } from './command.js';
import { compareFlags, servedFlags } from './drift-compare.js';
import { driftJson, printDrift } from './drift-output.js';
import { serverUrl, type FlagInput } from './flag-input.js';
import { readFlags } from './flag-source.js';
import type { CliIo } from './io.js';

/** `rampflag drift`'s exit code when the files and the server differ. */
export const DRIFT_EXIT = 1;

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

/** The flags of the files, normalised; a {@link CliError} names a file that cannot be parsed. */
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
        const named = message.includes(input.origin) ? message : `${input.origin}: ${message}`;
        throw new CliError(named, 'failed', { cause: alone });
      }
    throw new CliError((error as Error).message, 'failed', { cause: error });
  }
}

/** The server's flags, normalised; an `unreachable` {@link CliError} when they cannot be read. */
async function serverFlags(from: string, env: NodeJS.ProcessEnv) {
  try {
    return servedFlags(await readFlags({ from }, env));
  } catch (error) {
    const message = (error as Error).message;
    const named = message.includes(from) ? message : `${from}: ${message}`;
    throw new CliError(`cannot read the server's flags: ${named}`, 'unreachable', { cause: error });
  }
}

/**
 * `rampflag drift <files…> --from <server>`: whether a live server serves exactly what the flag
 * files hold. Exit 0 in sync, 1 on drift, 2 on bad usage or an unreadable file, 3 when the server's
 * flags cannot be read.
 */
export function drift(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runCommand(command(), args, io, INPUT_EXITS, async (parsed) => {
    const opts = parsed.opts<{ from: string; ignoreRolloutState?: boolean; json?: boolean }>();
    const files = parsed.processedArgs[0] as string[];
    try {
      serverUrl(opts.from);
    } catch (error) {
      throw new CliError((error as Error).message, 'usage');
    }
    const git = fileFlags(await readFlags({ files }));
    const served = await serverFlags(opts.from, env);
    const ignoreRolloutState = opts.ignoreRolloutState === true;
    const report = compareFlags(git, served, { ignoreRolloutState });
    const subject = { files, server: opts.from, ignoreRolloutState };
    if (opts.json === true) io.stdout(JSON.stringify(driftJson(subject, report), null, 2));
    else printDrift(io, subject, report);
    return report.drift.length === 0 ? 0 : DRIFT_EXIT;
  });
}
