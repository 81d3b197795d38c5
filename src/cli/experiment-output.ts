import {
  analysisHeadline,
  type Comparison,
  type ExperimentAnalysis,
} from '../experiment/analyze.js';
import type { EstimateInterval, VariantSummary } from '../experiment/compare.js';
import { levelText, pIs, pText, signedNumber } from '../experiment/format.js';
import type { MetricKind } from '../experiment/types.js';
import type { CliIo } from './io.js';
import { colorsFor, table } from './output.js';

/** `10.00 % (9.43 … 10.60)`: the unit once, after the estimate. */
function cell(
  i: EstimateInterval | undefined,
  format: (v: number) => string,
  unit: string,
): string {
  if (i === undefined) return 'n/a';
  return `${format(i.estimate)}${unit} (${format(i.low)} … ${format(i.high)})`;
}

const rate = (v: number) => (v * 100).toFixed(2);
const mean = (v: number) => v.toFixed(2);
const signed = (v: number) => signedNumber(v * 100, 1);
const p = (v: number | undefined) => (v === undefined ? 'n/a' : pText(v));

function valueCell(kind: MetricKind, s: VariantSummary): string {
  return kind === 'conversion' ? cell(s.value, rate, ' %') : cell(s.value, mean, '');
}

function absoluteCell(kind: MetricKind, c: Comparison): string {
  return kind === 'conversion'
    ? cell(c.absolute, (v) => signedNumber(v * 100), ' pts')
    : cell(c.absolute, (v) => signedNumber(v), '');
}

function metricTable(io: CliIo, analysis: ExperimentAnalysis, index: number): string[] {
  const metric = analysis.metrics[index];
  if (metric === undefined) return [];
  const own = analysis.comparisons.filter(
    (c) => c.metric === metric.metric && c.kind === metric.kind,
  );
  const level = levelText(analysis.alpha);
  const head = [
    'variant',
    'users',
    ...(metric.kind === 'conversion'
      ? ['conversions', `rate (${level} CI)`]
      : [`mean (${level} CI)`]),
    'absolute lift',
    'relative lift',
    'anytime-valid',
    metric.kind === 'conversion' ? 'p (z)' : 'p (Welch)',
    'seq. p',
    'Holm p',
  ];
  const row = (s: VariantSummary, c: Comparison | undefined) => [
    c === undefined ? `${s.variant} (control)` : s.variant,
    s.users,
    ...(metric.kind === 'conversion' ? [s.conversions] : []),
    valueCell(metric.kind, s),
    c === undefined ? '' : absoluteCell(metric.kind, c),
    c === undefined ? '' : cell(c.relative, signed, ' %'),
    c === undefined ? '' : cell(c.sequential?.relative, signed, ' %'),
    c === undefined ? '' : p(c.fixed?.pValue),
    c === undefined ? '' : p(c.sequential?.pValue),
    c === undefined ? '' : p(analysis.sequential ? c.adjusted.sequential : c.adjusted.fixed),
  ];
  const [control] = metric.variants;
  const rows = [
    ...(control === undefined ? [] : [row(control, undefined)]),
    ...own.map((c) => row(c.treatment, c)),
  ];
  const label = metric.kind === 'conversion' ? 'conversion rate' : 'mean per user';
  return ['', `${metric.metric} (${label})`, table(io, head, rows)];
}

function srmLine(io: CliIo, analysis: ExperimentAnalysis): string {
  const c = colorsFor(io);
  const { srm } = analysis;
  const names = Object.keys(srm.observed);
  const users = names
    .map((n) => `${n} ${(srm.observed[n] ?? 0).toLocaleString('en-US')}`)
    .join(' · ');
  const shares = names
    .map((n) => `${Number(((srm.expected[n] ?? 0) * 100).toFixed(1))} %`)
    .join(' / ');
  const chi = Number.isFinite(srm.statistic) ? srm.statistic.toFixed(2) : '∞';
  const verdict = srm.mismatch ? c.bold(c.red('SAMPLE RATIO MISMATCH')) : c.green('no mismatch');
  return `Users: ${users} (expected ${shares}); SRM χ² = ${chi}, p ${pIs(srm.pValue)}: ${verdict}`;
}

/** Prints an analysis for people: the headline, the SRM check, a table per metric, the verdicts and the warnings. */
export function printAnalysis(io: CliIo, analysis: ExperimentAnalysis, chart?: string): void {
  const c = colorsFor(io);
  const lines = [c.bold(analysisHeadline(analysis)), srmLine(io, analysis)];
  analysis.metrics.forEach((_, i) => lines.push(...metricTable(io, analysis, i)));
  lines.push('', 'Verdicts:');
  for (const comparison of analysis.comparisons) {
    const paint = {
      better: c.green,
      worse: c.red,
      inconclusive: (s: string) => s,
      'no-data': c.dim,
    }[comparison.outcome];
    lines.push(`  ${paint(comparison.verdict)}`);
  }
  if (analysis.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const warning of analysis.warnings) lines.push(`  ${c.yellow('!')} ${warning}`);
  }
  if (chart !== undefined) lines.push('', `Chart of the relative lift over time: ${chart}`);
  for (const line of lines) io.stdout(line);
}

/** The analysis as JSON can carry it: ±∞ (an interval without bound yet) becomes null. */
export function analysisJson(analysis: ExperimentAnalysis): unknown {
  return JSON.parse(
    JSON.stringify(analysis, (_key, value: unknown) =>
      typeof value === 'number' && !Number.isFinite(value) ? null : value,
    ),
  );
}
