import { Command } from 'commander';
import { CliError, INPUT_EXITS, runCommand } from './command.js';
import { diffBucketing, parseBucketing, type BucketingSwitch } from './diff-bucketing.js';
import { diffFlags } from './diff-flags.js';
import { sampleOutcomes, type FlagPair } from './diff-impact.js';
import { printDiff } from './diff-output.js';
import { diffReport } from './diff-report.js';
import type { CliIo } from './io.js';
import type { LoadedFlags } from './flag-source.js';
import { loadConfig } from './loaded-config.js';
import { renameCandidates } from './rebucketing.js';
import { subjectsFrom, withSubjectOptions, type SubjectOptions } from './subject-options.js';
import type { SubjectSet } from './subjects.js';

/** `rampflag diff`'s exit code when the configurations differ (as `diff` exits 1). */
export const CHANGES_EXIT = 1;

const HELP = `
Lists the flags added, removed and changed (state, variants, default variant, targeting, metadata),
and for each changed flag evaluates the same subjects against both versions to show who moves:
"15.00 % of subjects move off → on". When a flag's targeting is one fractional keyed alike on both
sides, the shares are exact, from the bucket ranges ("exact"); otherwise they are estimated from the
subjects (the sample size is given).

A WARNING (and "warnings" in --json) marks a change that takes a treatment (any variant but the
rollout's safe variant, else the default variant) from subjects who had it:
  - a reordered bucket list, e.g. [on, off] → [off, on];
  - a changed bucketing key (the first argument of fractional);
  - a removed flag and an added one with the same variants whose fractional hashes the flag key
    (implicit flagKey + targetingKey bucketing): a rename re-buckets everyone;
  - a weight shrink, or a bucket before a treatment growing so that its range moves.

With --bucketing v2..v3 (or v3..v2) it compares one flag file under two fractional bucketings
instead: flagd's v2 (the default) and v3 (the evaluator option fractional: 'v3'). For each flag
with a fractional it gives the share of subjects whose variant would change if the fleet switched,
each move ("50.00 % of subjects move heads → tails"), and the from → to matrix; flags without a
fractional are listed as unaffected. v3 hashes every subject anew: preview it before the switch.

Subjects: 10,000 generated ones by default (targetingKey subject-0 … subject-9999), seeded random
ids with --seed, or real contexts with --subjects-file (one JSON object per line).

Examples:
  rampflag diff flags.old.json flags.json
  git show HEAD~1:flags.yaml > /tmp/old.yaml && rampflag diff /tmp/old.yaml flags.yaml
  rampflag diff --from grpc://flagd:8015 flags.yaml --subjects-file users.jsonl
  rampflag diff old.json new.json --json --exit-zero
  rampflag diff --bucketing v2..v3 flags.json --subjects-file users.jsonl

Exit codes:
  0    no change (or --exit-zero)
  1    the configurations differ (as diff(1) exits 1); with --bucketing, a subject moves
  2    usage (e.g. a --bucketing other than v2..v3 or v3..v2), or a flag file or subjects file
       that cannot be read or is invalid
  3    the server (--from) cannot be read
  130  stopped (Ctrl-C)`;

interface Options extends SubjectOptions {
  readonly from?: string;
  readonly bucketing?: BucketingSwitch;
  readonly exitZero?: boolean;
  readonly json?: boolean;
}

function command(): Command {
  return withSubjectOptions(
    new Command('diff')
      .usage('<old> <new> | --from <server> <new> | --bucketing v2..v3 <file> [options]')
      .description(
        'flags added, removed and changed, who moves between variants, and re-bucketing warnings',
      )
      .argument(
        '<files...>',
        'the old and the new flag file (JSON or YAML); only the new one with --from',
      )
      .option(
        '--from <server>',
        'the old flags from a server: grpc://host:8015 or http://host:8014',
      ),
  )
    .option(
      '--bucketing <from..to>',
      'one flag file under two fractional bucketings: v2..v3 or v3..v2',
      parseBucketing,
    )
    .option('--exit-zero', 'exit 0 when the configurations differ, too')
    .option('--json', 'print the report as JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

async function load(files: readonly string[], from: string | undefined, env: NodeJS.ProcessEnv) {
  const before = await loadConfig(
    from === undefined ? { files: [files[0] as string] } : { from },
    env,
  );
  const after = await loadConfig({ files: [files.at(-1) as string] });
  return [before, after] as const;
}

/**
 * `rampflag diff <old> <new>` (or `--from <server> <new>`): the flags added, removed and changed,
 * the share of subjects moving between variants, and warnings for re-bucketing. With
 * `--bucketing v2..v3 <file>`: who moves if `fractional` bucketing switched. Resolves with the exit
 * code.
 */
export function diff(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runCommand(command(), args, io, INPUT_EXITS, async (parsed) => {
    const [files] = parsed.processedArgs as [string[]];
    const options = parsed.opts<Options>();
    if (options.bucketing !== undefined) return bucketing(files, options, io);
    if (files.length !== (options.from === undefined ? 2 : 1)) {
      const want =
        options.from === undefined
          ? 'an old and a new flag file'
          : 'one flag file (the new) with --from';
      throw new CliError(`give ${want} (rampflag diff --help)`, 'usage');
    }
    const subjects = await subjectsFrom(options);
    const [before, after] = await load(files, options.from, env);
    return compare(before, after, subjects, options, io);
  });
}

/** `--bucketing`: one file under two bucketings; resolves with the exit code. */
async function bucketing(files: readonly string[], options: Options, io: CliIo): Promise<number> {
  const [file] = files;
  if (files.length !== 1 || file === undefined || options.from !== undefined)
    throw new CliError(
      'give one flag file with --bucketing, and no --from (rampflag diff --help)',
      'usage',
    );
  const subjects = await subjectsFrom(options);
  const moved = await diffBucketing(
    file,
    options.bucketing as BucketingSwitch,
    subjects,
    options,
    io,
  );
  return moved && options.exitZero !== true ? CHANGES_EXIT : 0;
}

/** The report on `before` and `after`, printed; resolves with the exit code. */
async function compare(
  before: LoadedFlags,
  after: LoadedFlags,
  subjects: SubjectSet,
  options: Options,
  io: CliIo,
): Promise<number> {
  const changes = diffFlags(before.flags, after.flags);
  const pick = (map: ReadonlyMap<string, Record<string, unknown>>, keys: readonly string[]) =>
    new Map(keys.map((key) => [key, map.get(key) as Record<string, unknown>]));
  const renames = renameCandidates(
    pick(before.flags, changes.removed),
    pick(after.flags, changes.added),
  );
  const pairs: FlagPair[] = [
    ...changes.changed.map((c) => ({ before: c.flag, after: c.flag })),
    ...renames.map((r) => ({ before: r.from, after: r.to })),
  ];
  const outcomes =
    pairs.length === 0
      ? []
      : await sampleOutcomes(pairs, before.evaluator, after.evaluator, subjects, io);
  if (outcomes === undefined) throw new CliError('stopped', 'stopped');
  const report = diffReport(
    changes,
    renames,
    { before: before.flags, after: after.flags },
    outcomes,
  );
  if (options.json === true)
    io.stdout(
      JSON.stringify(
        { old: before.origin, new: after.origin, subjects: subjects.summary, ...report },
        null,
        2,
      ),
    );
  else
    printDiff(io, report, {
      before: before.origin,
      after: after.origin,
      subjects: subjects.description,
      evaluated: subjects.count,
    });
  return report.changes && options.exitZero !== true ? CHANGES_EXIT : 0;
}
