import type { CliIo } from './io.js';
import { colorsFor, table } from './output.js';
import type { Subject } from './verify-subjects.js';
import {
  shareOf,
  type ExpectationResult,
  type Verdict,
  type VerifySummary,
} from './verify-summary.js';

/** A check's report: what was checked, what it found, and how long re-checking took. */
export interface VerifyReport {
  readonly flag: string;
  readonly subjects: readonly Subject[];
  readonly summary: VerifySummary;
  readonly expectations: readonly ExpectationResult[];
  readonly verdict: Verdict;
  /** How many checks ran, and over how long (ms) from the first one's start. */
  readonly checks: number;
  readonly elapsedMs: number;
  readonly polled: boolean;
}

const pct = (share: number) => `${share.toFixed(1)} %`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const count = (n: number) => n.toLocaleString('en-US');
/** A replica's URL without its scheme, for a column head. */
const short = (url: string) => url.replace(/^https?:\/\//, '');

/** The report for programs. */
export function verifyJson(report: VerifyReport): object {
  const { summary } = report;
  const n = summary.subjects;
  return {
    flag: report.flag,
    verdict: report.verdict,
    consistent: summary.unreachable === 0 && summary.differing === 0,
    subjects: n,
    checks: report.checks,
    elapsedMs: Math.round(report.elapsedMs),
    replicas: summary.replicas.map((r) => ({
      url: r.url,
      protocol: r.protocol,
      reachable: r.failure === undefined,
      ...(r.failure === undefined ? {} : { error: r.failure }),
      variants: Object.fromEntries(
        [...r.counts].map(([v, c]) => [v, { count: c, share: shareOf(r, v, n) }]),
      ),
      disagreements: r.disagreements,
    })),
    differing: summary.differing,
    examples: summary.examples.map((d) => {
      const subject = report.subjects[d.subject] as Subject;
      const outcomes = summary.replicas.map((r, i) => [r.url, d.outcomes[i] ?? null]);
      return {
        subject: subject.label,
        context: subject.context,
        variants: Object.fromEntries(outcomes),
      };
    }),
    expect: report.expectations.map((e) => ({
      variant: e.variant,
      percent: e.percent,
      tolerance: e.tolerance,
      met: e.met,
      shares: Object.fromEntries(summary.replicas.map((r, i) => [r.url, e.shares[i] ?? null])),
    })),
  };
}

/** The replicas table: each one's share per outcome, and its disagreements. */
function replicaTable(io: CliIo, summary: VerifySummary): string {
  // no outcome at all when no replica answered
  const columns = summary.variants.length > 0 ? summary.variants : ['VARIANTS'];
  const rows = summary.replicas.map((r) => {
    if (r.failure !== undefined)
      return [r.url, r.protocol, 'unreachable', ...columns.slice(1).map(() => ''), '-'];
    const cells = columns.map((v) => {
      const n = r.counts.get(v) ?? 0;
      return `${count(n)} (${pct(shareOf(r, v, summary.subjects) ?? 0)})`;
    });
    return [r.url, r.protocol, ...cells, count(r.disagreements)];
  });
  return table(io, ['REPLICA', 'PROTOCOL', ...columns, 'DIFFERS'], rows);
}

/** The verdict, in a line. */
function verdictLine(report: VerifyReport): string {
  const { summary } = report;
  const n = summary.replicas.length;
  switch (report.verdict) {
    case 'unreachable':
      return summary.replicas
        .filter((r) => r.failure !== undefined)
        .map((r) => `unreachable: ${r.failure}`)
        .join('\n');
    case 'inconsistent':
      return `inconsistent: ${summary.replicas
        .filter((r) => r.disagreements > 0)
        .sort((a, b) => b.disagreements - a.disagreements)
        .map((r) => `${r.url} disagrees with the others on ${count(r.disagreements)} subjects`)
        .join('; ')}`;
    case 'unmet':
      return `consistent, but not as expected: the ${n} replicas agree on each subject`;
    case 'consistent':
      return `consistent: ${n === 1 ? 'the replica gives' : `the ${n} replicas give`} each of the ${count(summary.subjects)} subjects the same variant`;
  }
}

/** One line per expectation: met, or which replicas are off and by how much. */
function expectationLines(report: VerifyReport): string[] {
  return report.expectations.map((e) => {
    const head = `expect ${e.variant} = ${e.percent} % (± ${e.tolerance.toFixed(2)} points)`;
    if (e.met) return `${head}: met on every replica`;
    const off = report.summary.replicas
      .map((r, i) => [r.url, e.shares[i]] as const)
      .filter(([, s]) => s !== undefined && Math.abs(s - e.percent) > e.tolerance)
      .map(([url, s]) => `${url} has ${pct(s as number)}`);
    return `${head}: not met: ${off.join(', ')}`;
  });
}

/** The report for people. */
export function printVerify(io: CliIo, report: VerifyReport): void {
  const c = colorsFor(io);
  const { summary } = report;
  io.stdout(
    `verify ${report.flag}: ${count(summary.subjects)} subjects on ${summary.replicas.length} replicas`,
  );
  io.stdout(replicaTable(io, summary));
  if (summary.differing > 0) {
    const share = pct((summary.differing / summary.subjects) * 100);
    io.stdout(
      `${count(summary.differing)} of ${count(summary.subjects)} subjects (${share}) resolve differently between replicas: their variant flips between requests. The first ${summary.examples.length}:`,
    );
    const head = ['SUBJECT', ...summary.replicas.map((r) => short(r.url))];
    const rows = summary.examples.map((d) => [
      (report.subjects[d.subject] as Subject).label,
      ...d.outcomes.map((o) => o ?? '-'),
    ]);
    if (rows.length > 0) io.stdout(table(io, head, rows));
  }
  for (const line of expectationLines(report)) io.stdout(line);
  const line = verdictLine(report);
  io.stdout(report.verdict === 'consistent' ? c.green(line) : c.red(line));
  if (report.polled) {
    const checks = `${report.checks} check${report.checks === 1 ? '' : 's'}`;
    io.stdout(
      report.verdict === 'consistent'
        ? `consistent after ${seconds(report.elapsedMs)} (${checks})`
        : `still not consistent after ${seconds(report.elapsedMs)} (${checks})`,
    );
  }
}

/** A line for stderr between checks: what is still wrong. */
export function pendingLine(report: VerifyReport, nextMs: number): string {
  const { summary } = report;
  const what =
    report.verdict === 'unreachable'
      ? `${summary.unreachable} replica(s) unreachable`
      : report.verdict === 'inconsistent'
        ? `${count(summary.differing)} subjects differ between replicas`
        : `${report.expectations
            .filter((e) => !e.met)
            .map((e) => `${e.variant} not at ${e.percent} %`)
            .join(', ')}`;
  return `check ${report.checks} at ${seconds(report.elapsedMs)}: ${what}; checking again in ${seconds(nextMs)}`;
}
