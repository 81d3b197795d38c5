import { InvalidArgumentError } from 'commander';
import {
  bucketingTally,
  type BucketingMoves,
  type FlagBucketingMoves,
} from '../evaluator/bucketing-moves.js';
import type { FractionalBucketing } from '../evaluator/index.js';
import { CliError } from './command.js';
import { printBucketing } from './diff-bucketing-output.js';
import type { CliIo } from './io.js';
import { loadConfig } from './loaded-config.js';
import { forEachSubject } from './subject-loop.js';
import type { SubjectSet } from './subjects.js';

/** A switch of `fractional` bucketing, as `--bucketing v2..v3` names it. */
export interface BucketingSwitch {
  readonly from: FractionalBucketing;
  readonly to: FractionalBucketing;
}

/** The values `--bucketing` takes. */
export const BUCKETING_SWITCHES = ['v2..v3', 'v3..v2'] as const;

/** `v2..v3` or `v3..v2`; an `InvalidArgumentError` naming the value and those allowed otherwise. */
export function parseBucketing(text: string): BucketingSwitch {
  const value = text.trim();
  if (!(BUCKETING_SWITCHES as readonly string[]).includes(value))
    throw new InvalidArgumentError(
      `'${text}' is not a bucketing switch: give ${BUCKETING_SWITCHES.join(' or ')}`,
    );
  const [from, to] = value.split('..') as [FractionalBucketing, FractionalBucketing];
  return { from, to };
}

/** What `rampflag diff --bucketing … --json` prints. */
export interface BucketingReport {
  readonly configuration: string;
  readonly bucketing: BucketingSwitch;
  readonly subjects: SubjectSet['summary'];
  /** The flags with a `fractional`, by key: who moves, and the from → to matrix. */
  readonly flags: readonly FlagBucketingMoves[];
  /** The flags without a `fractional`, by key. */
  readonly unaffected: readonly string[];
  /** Whether any subject gets another variant: `rampflag diff` then exits 1. */
  readonly changes: boolean;
}

/** Evaluates every subject under both bucketings; `undefined` when `io.signal` stopped it. */
async function tallied(
  configuration: object,
  bucketing: BucketingSwitch,
  subjects: SubjectSet,
  io: CliIo,
): Promise<BucketingMoves | undefined> {
  const tally = bucketingTally(configuration, bucketing);
  if (tally.flags.length === 0) return tally.result();
  const finished = await forEachSubject(
    subjects,
    io,
    'diff',
    (context) => tally.add(context),
    tally.flags.length * 2,
  );
  return finished ? tally.result() : undefined;
}

/**
 * `rampflag diff --bucketing v2..v3 <file>`: the flags of one configuration under two bucketings,
 * the same subjects evaluated under each. Prints the report (or `--json`) and resolves with whether
 * any subject moves.
 */
export async function diffBucketing(
  file: string,
  bucketing: BucketingSwitch,
  subjects: SubjectSet,
  options: { readonly json?: boolean },
  io: CliIo,
): Promise<boolean> {
  const loaded = await loadConfig({ files: [file] });
  // the flags as served (shared evaluators inlined), as the fleet that switches evaluates them
  const configuration = { flags: Object.fromEntries(loaded.flags) };
  const moves = await tallied(configuration, bucketing, subjects, io);
  if (moves === undefined) throw new CliError('stopped', 'stopped');
  const report: BucketingReport = {
    configuration: loaded.origin,
    bucketing,
    subjects: subjects.summary,
    flags: moves.flags,
    unaffected: moves.unaffected,
    changes: moves.moved,
  };
  if (options.json === true) io.stdout(JSON.stringify(report, null, 2));
  else printBucketing(io, report, subjects.description);
  return report.changes;
}
