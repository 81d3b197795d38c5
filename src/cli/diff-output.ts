import type { ChangedFlagReport, DiffReport, Move } from './diff-report.js';
import type { RebucketWarning } from './diff-warnings.js';
import type { CliIo } from './io.js';
import { colorsFor, type Colors } from './output.js';
import { count, percent } from './share-format.js';

/** Moves listed per flag for people (`--json` lists them all). */
const MOVE_LINES = 10;
const INDENT = '    ';

/** `15.00 % of subjects move off → on (exact; 1,512 of the 10,000 evaluated)`. */
export function moveLine(move: Move, evaluated: number): string {
  const pair = `${move.from} → ${move.to}`;
  if (move.exactShare !== undefined)
    return `${percent(move.exactShare)} of subjects move ${pair} (exact; ${count(move.subjects)} of the ${count(evaluated)} evaluated)`;
  return `${percent(move.share)} of subjects move ${pair} (estimated from ${count(evaluated)} subjects: ${count(move.subjects)})`;
}

/** `WARNING <message>`, the prefix bold red on a terminal. */
export function warningLine(c: Colors, warning: RebucketWarning): string {
  return `${c.bold(c.red('WARNING'))} ${warning.message}`;
}

function movesLines(moves: readonly Move[], evaluated: number, exact: boolean): string[] {
  if (moves.length === 0)
    return [
      exact
        ? 'no subject changes variant (exact)'
        : `no subject changes variant (${count(evaluated)} evaluated)`,
    ];
  const lines = moves.slice(0, MOVE_LINES).map((move) => moveLine(move, evaluated));
  if (moves.length > MOVE_LINES)
    lines.push(`… and ${moves.length - MOVE_LINES} more moves (--json lists them all)`);
  return lines;
}

function changedLines(c: Colors, flag: ChangedFlagReport, evaluated: number): string[] {
  const lines = [`  ${c.yellow('~')} ${c.bold(flag.flag)} (${flag.aspects.join(', ')})`];
  lines.push(...flag.details.map((d) => `${INDENT}${d}`));
  const moved = movesLines(flag.moves, evaluated, flag.basis === 'exact');
  lines.push(...moved.map((line) => `${INDENT}${c.cyan(line)}`));
  for (const v of flag.valueChanges)
    lines.push(
      `${INDENT}'${v.variant}' has a new value: ${count(v.subjects)} subjects (${percent(v.share)}) get it`,
    );
  lines.push(...flag.warnings.map((w) => `${INDENT}${warningLine(c, w)}`));
  return lines;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Prints a diff report for people. */
export function printDiff(
  io: CliIo,
  report: DiffReport,
  names: {
    readonly before: string;
    readonly after: string;
    readonly subjects: string;
    readonly evaluated: number;
  },
): void {
  const c = colorsFor(io);
  const lines = [`${names.before} → ${names.after}, over ${names.subjects}:`, ''];
  if (!report.changes) lines.push('No change.');
  if (report.added.length > 0)
    lines.push(
      `Added (${report.added.length}):`,
      ...report.added.map((k) => `  ${c.green('+')} ${k}`),
    );
  if (report.removed.length > 0)
    lines.push(
      `Removed (${report.removed.length}):`,
      ...report.removed.map((k) => `  ${c.red('-')} ${k}`),
    );
  if (report.changed.length > 0) {
    lines.push(`Changed (${report.changed.length}):`);
    for (const flag of report.changed) lines.push(...changedLines(c, flag, names.evaluated));
  }
  for (const rename of report.renamed) {
    lines.push(
      '',
      `Renamed? ${c.bold(rename.from)} → ${c.bold(rename.to)}: the same subjects, old flag against new`,
    );
    lines.push(
      ...movesLines(rename.moves, names.evaluated, false).map((line) => `${INDENT}${c.cyan(line)}`),
    );
    lines.push(...rename.warnings.map((w) => `${INDENT}${warningLine(c, w)}`));
  }
  if (report.changes) {
    const parts = [
      `${report.added.length} added`,
      `${report.removed.length} removed`,
      `${report.changed.length} changed`,
    ];
    const warned =
      report.warnings.length > 0
        ? `; ${c.bold(c.red(plural(report.warnings.length, 're-bucketing WARNING')))}`
        : '';
    lines.push('', `${parts.join(', ')}${warned}`);
  }
  for (const line of lines) io.stdout(line);
}
