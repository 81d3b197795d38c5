import type { ChiSquared, DistributionReport, VariantCount } from './distribution-report.js';
import type { CliIo } from './io.js';
import { colorsFor, table } from './output.js';
import { count, percent, pValueText } from './share-format.js';

/** Cohorts listed for people (`--json` lists them all). */
const COHORT_ROWS = 50;

function variantTable(io: CliIo, variants: readonly VariantCount[]): string {
  const configured = variants.some((v) => v.configuredShare !== undefined);
  const head = ['variant', 'subjects', 'share', ...(configured ? ['configured'] : [])];
  const rows = variants.map((v) => [
    v.variant,
    v.subjects,
    percent(v.share),
    ...(configured ? [percent(v.configuredShare ?? 0)] : []),
  ]);
  return table(io, head, rows);
}

/** `χ² = 0.16, df = 1, p = 0.69: consistent with the configured weights`, coloured on a terminal. */
export function chiSquaredLine(io: CliIo, chi: ChiSquared): string {
  const c = colorsFor(io);
  if (chi.verdict === 'untested') return 'χ²: nothing to test (one bucket has all the weight)';
  const statistic = chi.statistic === null ? '∞' : chi.statistic.toFixed(2);
  const numbers = `χ² = ${statistic}, df = ${chi.df}, p = ${pValueText(chi.pValue)}`;
  return chi.verdict === 'mismatch'
    ? `${numbers}: ${c.bold(c.red('MISMATCH'))}: the split differs from the configured weights (p < 0.001)`
    : `${numbers}: ${c.green('consistent')} with the configured weights`;
}

function cohortTable(io: CliIo, report: DistributionReport): string[] {
  const cohorts = report.cohorts;
  if (cohorts === undefined) return [];
  const labels = report.variants.map((v) => v.variant);
  const rows = cohorts.groups.slice(0, COHORT_ROWS).map((group) => {
    const of = new Map(group.variants.map((v) => [v.variant, v]));
    return [
      group.cohort,
      group.subjects,
      ...labels.map((label) => {
        const v = of.get(label);
        return v === undefined ? '0' : `${count(v.subjects)} (${percent(v.share, 1)})`;
      }),
    ];
  });
  const more = cohorts.groups.length - COHORT_ROWS;
  return [
    '',
    `By ${cohorts.attribute}:`,
    table(io, [cohorts.attribute, 'subjects', ...labels], rows),
    ...(more > 0 ? [`… and ${count(more)} more cohorts (--json lists them all)`] : []),
  ];
}

/** Prints a distribution report for people. */
export function printDistribution(
  io: CliIo,
  report: DistributionReport,
  origin: string,
  subjects: string,
): void {
  const c = colorsFor(io);
  const lines = [`${c.bold(report.flag)} in ${origin}, over ${subjects}:`, ''];
  lines.push(variantTable(io, report.variants));
  const merged = report.variants.some((v) => v.configuredShare !== undefined);
  for (const split of report.splits) {
    const key = `bucketing key ${split.bucketingKey}`;
    if (merged) lines.push('', `Split by ${split.path} (${key}).`);
    else if (split.subjects === 0) {
      lines.push('', `Split by ${split.path} (${key}): no subject reached it.`);
      continue;
    } else {
      const of = `${count(split.subjects)} of the ${count(report.total)} subjects`;
      lines.push('', `Split by ${split.path} (${key}): ${of}`);
      lines.push(variantTable(io, split.variants));
    }
    lines.push(chiSquaredLine(io, split.chiSquared));
  }
  for (const path of report.dynamicSplits)
    lines.push(
      '',
      `${path}: its weights or variants are rules, so no share is configured up front.`,
    );
  if (report.splits.length === 0 && report.dynamicSplits.length === 0)
    lines.push('', 'No fractional split in this flag: no configured shares to check.');
  lines.push(...cohortTable(io, report));
  if (report.firstError !== undefined) lines.push('', `Evaluation error: ${report.firstError}`);
  for (const line of lines) io.stdout(line);
}
