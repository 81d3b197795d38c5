import type { FlagBucketingMoves } from '../evaluator/bucketing-moves.js';
import type { BucketingReport } from './diff-bucketing.js';
import { moveLine } from './diff-output.js';
import type { CliIo } from './io.js';
import { colorsFor, table, type Colors } from './output.js';
import { count, percent } from './share-format.js';

/** Moves listed per flag for people (`--json` lists them all). */
const MOVE_LINES = 10;
/** The most rows or columns a matrix is drawn with (`--json` holds every cell). */
const MATRIX_SIDE = 8;
const INDENT = '    ';
/** The unaffected flags named for people (`--json` names them all). */
const UNAFFECTED_NAMED = 20;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const indent = (text: string) => text.replace(/^/gm, INDENT);

/** The from → to matrix as a table: a row per variant before, a column per variant after. */
function matrixText(io: CliIo, flag: FlagBucketingMoves, names: BucketingReport['bucketing']) {
  const rows = [...new Set(flag.matrix.map((cell) => cell.from))];
  const columns = [...new Set(flag.matrix.map((cell) => cell.to))].sort();
  if (rows.length > MATRIX_SIDE || columns.length > MATRIX_SIDE)
    return `(${rows.length} × ${columns.length} matrix: --json lists every cell)`;
  const cells = new Map(flag.matrix.map((cell) => [`${cell.from}\u0000${cell.to}`, cell.subjects]));
  const body = rows.map((row) => [
    row,
    ...columns.map((column) => cells.get(`${row}\u0000${column}`) ?? 0),
  ]);
  return table(io, [`${names.from} \\ ${names.to}`, ...columns], body);
}

/** A note when one bucketing sends more subjects to the default variant than the other. */
function defaultsNote(flag: FlagBucketingMoves, names: BucketingReport['bucketing']): string[] {
  const { from, to } = flag.defaults;
  if (from === to) return [];
  const v3 = names.to === 'v3' ? to : from;
  const v2 = names.to === 'v3' ? from : to;
  const why =
    v3 > v2
      ? ': v3 gives null for a null bucketing value (a missing attribute), where v2 buckets on the targeting key'
      : ': v2 gives null for a bucketing value that is not a string (a number, a boolean, an object), which v3 buckets';
  return [
    `the targeting gives null (the default variant) for ${count(from)} subjects under ${names.from}, ${count(to)} under ${names.to}${why}`,
  ];
}

function flagLines(io: CliIo, c: Colors, flag: FlagBucketingMoves, report: BucketingReport) {
  const head = `${percent(flag.share)} of subjects move (${count(flag.moved)} of the ${count(flag.subjects)} evaluated)`;
  const lines = [
    `  ${c.yellow('~')} ${c.bold(flag.flag)}: ${flag.moved > 0 ? head : 'no subject changes variant'}`,
  ];
  const moves = flag.moves.slice(0, MOVE_LINES).map((move) => moveLine(move, flag.subjects));
  if (flag.moves.length > MOVE_LINES)
    moves.push(`… and ${flag.moves.length - MOVE_LINES} more moves (--json lists them all)`);
  lines.push(...moves.map((line) => `${INDENT}${c.cyan(line)}`));
  lines.push(...defaultsNote(flag, report.bucketing).map((line) => `${INDENT}${line}`));
  lines.push(indent(matrixText(io, flag, report.bucketing)));
  return lines;
}

/** Prints a `rampflag diff --bucketing` report for people. */
export function printBucketing(io: CliIo, report: BucketingReport, subjects: string): void {
  const c = colorsFor(io);
  const { from, to } = report.bucketing;
  const lines = [
    `${report.configuration}: fractional bucketing ${from} → ${to}, over ${subjects}:`,
    '',
  ];
  if (report.flags.length === 0) lines.push('No flag has a fractional: nobody moves.');
  else lines.push(`Flags with a fractional (${report.flags.length}):`);
  for (const flag of report.flags) lines.push(...flagLines(io, c, flag, report));
  if (report.unaffected.length > 0) {
    const named = report.unaffected.slice(0, UNAFFECTED_NAMED).join(', ');
    const more = report.unaffected.length - UNAFFECTED_NAMED;
    lines.push(
      '',
      `Unaffected, without a fractional (${report.unaffected.length}): ${named}${more > 0 ? `, … and ${more} more` : ''}`,
    );
  }
  const moving = report.flags.filter((flag) => flag.moved > 0).length;
  lines.push(
    '',
    `${moving} of ${plural(report.flags.length, 'flag')} with a fractional move subjects; ${plural(report.unaffected.length, 'flag')} without`,
  );
  for (const line of lines) io.stdout(line);
}
