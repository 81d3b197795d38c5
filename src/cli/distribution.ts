import { Command } from 'commander';
import { CliError, INPUT_EXITS, runCommand } from './command.js';
import { distributionReport } from './distribution-report.js';
import { printDistribution } from './distribution-output.js';
import { dynamicSplits, splitProbe, tallier } from './distribution-tally.js';
import type { CliIo } from './io.js';
import type { LoadedFlags } from './flag-source.js';
import { flagIn, loadConfig } from './loaded-config.js';
import { forEachSubject } from './subject-loop.js';
import { subjectsFrom, withSubjectOptions, type SubjectOptions } from './subject-options.js';
import type { SubjectSet } from './subjects.js';

/** `rampflag distribution`'s exit code for a split that differs from its weights (`--fail-on-mismatch`). */
export const MISMATCH_EXIT = 1;

const HELP = `
Evaluates the flag for every subject, as flagd would, and counts what each got:
  - per variant (and "(default)", "(disabled)" or "(error: …)" when no variant applies);
  - per fractional split, with the share its weights configure and Pearson's χ² goodness of fit of
    the subjects it split against those weights (p < 0.001 is a mismatch: a skewed subjects file,
    a bucketing key most subjects lack or share, or a bug);
  - per cohort with --cohort <attribute> (e.g. ring), read from each subject's context.

Subjects: 10,000 generated ones by default, with targetingKey subject-0 … subject-9999 (the same
every run), or seeded random ids with --seed; --context adds attributes to each. --subjects-file
reads real contexts instead, one JSON object per line (a bad line is named, file:line).

Examples:
  rampflag distribution new-checkout flags.yaml
  rampflag distribution new-checkout flags.yaml --subjects 1m --seed 7
  rampflag distribution new-checkout --from grpc://flagd:8015 --subjects-file users.jsonl --cohort ring
  rampflag distribution new-checkout flags.json --context '{"ring":"canary"}' --json
  rampflag distribution new-checkout flags.json --subjects-file users.jsonl --fail-on-mismatch

Exit codes:
  0    counted (a χ² mismatch is reported, not failed, without --fail-on-mismatch)
  1    --fail-on-mismatch and a split's χ² p-value is under 0.001
  2    usage, an unknown flag, or a flag file or subjects file that cannot be read or is invalid
  3    the server (--from) cannot be read
  130  stopped (Ctrl-C)`;

interface Options extends SubjectOptions {
  readonly from?: string;
  readonly cohort?: string;
  readonly failOnMismatch?: boolean;
  readonly json?: boolean;
}

function command(): Command {
  return withSubjectOptions(
    new Command('distribution')
      .usage('<flag> (<files...> | --from <server>) [options]')
      .description(
        'the split of a flag over many subjects, per variant and cohort, with a χ² check',
      )
      .argument('<flag>', 'the flag key')
      .argument('[files...]', 'flag files (JSON or YAML), merged as rampflag serve merges them')
      .option(
        '--from <server>',
        'read the flags from a server: grpc://host:8015 or http://host:8014',
      ),
  )
    .option('--cohort <attribute>', 'count per value of this context attribute too (e.g. ring)')
    .option('--fail-on-mismatch', 'exit 1 when a split differs from its weights (χ² p < 0.001)')
    .option('--json', 'print the report as JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

/**
 * `rampflag distribution <flag> (files… | --from <server>)`: the split of a flag over generated or
 * given subjects, per variant and cohort, against its configured weights. Resolves with the exit code.
 */
export function distribution(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runCommand(command(), args, io, INPUT_EXITS, async (parsed) => {
    const [flagKey, files = []] = parsed.processedArgs as [string, string[]];
    const options = parsed.opts<Options>();
    if (files.length > 0 === (options.from !== undefined))
      throw new CliError(
        'give flag files or --from <server>, one of the two (rampflag distribution --help)',
        'usage',
      );
    const subjects = await subjectsFrom(options);
    const config = await loadConfig(
      options.from === undefined ? { files } : { from: options.from },
      env,
    );
    return count(config, flagKey, subjects, options, io);
  });
}

/** The split of `flagKey` over `subjects`, printed; resolves with the exit code. */
async function count(
  config: LoadedFlags,
  flagKey: string,
  subjects: SubjectSet,
  options: Options,
  io: CliIo,
): Promise<number> {
  const flag = flagIn(config, flagKey);
  const probe = splitProbe(flagKey, flag);
  const counter = tallier(config.evaluator, flagKey, probe, options.cohort);
  const work = probe === undefined ? 1 : 2;
  if (!(await forEachSubject(subjects, io, flagKey, (context) => counter.add(context), work)))
    throw new CliError('stopped', 'stopped');
  const report = distributionReport(
    flagKey,
    counter.tally(),
    probe,
    dynamicSplits(flag),
    options.cohort,
  );
  if (options.json === true)
    io.stdout(
      JSON.stringify({ ...report, source: config.origin, subjects: subjects.summary }, null, 2),
    );
  else printDistribution(io, report, config.origin, subjects.description);
  return options.failOnMismatch === true && report.mismatch ? MISMATCH_EXIT : 0;
}
