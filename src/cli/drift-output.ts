import type { DriftReport, FieldDiff, FlagDrift } from './drift-compare.js';
import type { CliIo } from './io.js';
import { colorsFor, table } from './output.js';

/** What `rampflag drift` compared, for its report. */
export interface DriftSubject {
  readonly files: readonly string[];
  readonly server: string;
  readonly ignoreRolloutState: boolean;
}

const KIND_TEXT = {
  missing: 'missing on the server',
  extra: 'extra on the server',
  changed: 'changed',
} as const;

/** A value in one line: JSON, cut at 80 characters; `(absent)` when there is none. */
function shown(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The paths that differ, the first three and how many more. */
function fieldsOf(drift: FlagDrift): string {
  const paths = drift.diffs.map((d) => d.path);
  const more = paths.length > 3 ? ` and ${paths.length - 3} more` : '';
  return `${paths.slice(0, 3).join(', ')}${more}`;
}

const diffJson = (d: FieldDiff) => ({
  path: d.path,
  ...(d.files === undefined ? {} : { files: d.files }),
  ...(d.server === undefined ? {} : { server: d.server }),
});

const flagJson = (d: FlagDrift) => ({
  flag: d.flag,
  fields: d.diffs.map(diffJson),
  ...(d.rollout === undefined ? {} : { rollout: d.rollout }),
});

/** The report for programs: `inSync`, the flags missing, extra and changed (each field's values). */
export function driftJson(subject: DriftSubject, report: DriftReport): object {
  const of = (kind: FlagDrift['kind']) => report.drift.filter((d) => d.kind === kind);
  return {
    inSync: report.drift.length === 0,
    files: subject.files,
    server: subject.server,
    ignoreRolloutState: subject.ignoreRolloutState,
    flags: { files: report.fileFlags, server: report.serverFlags },
    missing: of('missing').map((d) => d.flag),
    extra: of('extra').map((d) => d.flag),
    changed: of('changed').map(flagJson),
    ignored: report.ignored.map(flagJson),
    ...(report.freeze === undefined ? {} : { freeze: report.freeze }),
  };
}

/** The report for people: a verdict, a table of the flags that differ, each difference, notes. */
export function printDrift(io: CliIo, subject: DriftSubject, report: DriftReport): void {
  const c = colorsFor(io);
  const files = subject.files.join(', ');
  const counts = `${report.fileFlags} in the files, ${report.serverFlags} served`;
  const aside = report.ignored.length > 0 ? ', rollout state aside' : '';
  if (report.drift.length === 0)
    io.stdout(
      `${c.green('in sync')}${aside}: ${subject.server} serves what ${files} hold (${counts})`,
    );
  else {
    const n = report.drift.length;
    io.stdout(
      `${c.red('drift')}: ${subject.server} differs from ${files} in ${n} flag${n === 1 ? '' : 's'} (${counts})`,
    );
    const rows = report.drift.map((d) => [d.flag, KIND_TEXT[d.kind], fieldsOf(d)]);
    io.stdout(table(io, ['FLAG', 'DRIFT', 'FIELDS'], rows));
    for (const d of report.drift)
      for (const diff of d.diffs)
        io.stdout(
          `${d.flag}: ${diff.path}: files ${shown(diff.files)}, server ${shown(diff.server)}`,
        );
  }
  if (report.ignored.length > 0) {
    io.stdout('rollout state left out (--ignore-rollout-state):');
    const rows = report.ignored.map((d) => [d.flag, d.rollout ?? '', fieldsOf(d)]);
    io.stdout(table(io, ['FLAG', 'ROLLOUT', 'FIELDS'], rows));
  }
  printNotes(io, subject, report);
}

/** Why a difference may be a rollout's doing, when rollout state was compared. */
function printNotes(io: CliIo, subject: DriftSubject, report: DriftReport): void {
  if (subject.ignoreRolloutState) return;
  const hint = '--ignore-rollout-state accepts what rollouts, rollbacks, kills and freezes change';
  for (const d of report.drift)
    if (d.rollout !== undefined) io.stdout(`note: ${d.flag} records ${d.rollout}; ${hint}`);
  if (report.freeze !== undefined && report.drift.length > 0)
    io.stdout(`note: the server's ${report.freeze}; ${hint}`);
}
