import { ExperimentSourceError } from './errors.js';
import type { ExperimentData, MetricData, VariantCounts } from './types.js';

/** At most this many metrics × variants are analysed (a bound on hostile input). */
export const MAX_COMPARISONS = 10_000;
/** At most this many points of a series are analysed, and this many counts in all its points. */
export const MAX_SERIES_POINTS = 2_000;
export const MAX_SERIES_COUNTS = 200_000;

const count = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
/** A number of users: past 2^53 doubles no longer count one by one (and sums of them overflow). */
const users = (n: unknown) => count(n) && (n as number) <= Number.MAX_SAFE_INTEGER;

function checkVariant(where: string, kind: MetricData['kind'], v: VariantCounts): void {
  const at = `${where}, variant "${v.variant}"`;
  if (!users(v.users))
    throw new ExperimentSourceError(`${at}: users must be a count ≥ 0 and ≤ 2^53`);
  if (!users(v.conversions))
    throw new ExperimentSourceError(`${at}: conversions must be a count ≥ 0 and ≤ 2^53`);
  if (kind === 'conversion' && v.conversions > v.users)
    throw new ExperimentSourceError(
      `${at}: ${v.conversions} conversions for ${v.users} users (conversions count users)`,
    );
  if (kind === 'mean') {
    if (!Number.isFinite(v.valueSum) || !count(v.valueSumSquares))
      throw new ExperimentSourceError(
        `${at}: a mean metric needs valueSum and valueSumSquares (a sum of squares ≥ 0)`,
      );
    const sum = v.valueSum as number;
    if (!Number.isFinite(sum * sum))
      throw new ExperimentSourceError(
        `${at}: valueSum ${sum} is too large to analyse (its square overflows)`,
      );
  }
}

function checkMetric(data: ExperimentData, metric: MetricData, seen: Set<string>): void {
  const where = `metric "${metric.metric}"`;
  if (metric.kind !== 'conversion' && metric.kind !== 'mean')
    throw new ExperimentSourceError(`${where}: kind must be "conversion" or "mean"`);
  const id = `${metric.metric}\u0000${metric.kind}`;
  if (seen.has(id)) throw new ExperimentSourceError(`${where} (${metric.kind}) is given twice`);
  seen.add(id);
  const names = new Set<string>();
  for (const v of metric.variants) {
    if (names.has(v.variant))
      throw new ExperimentSourceError(`${where}: variant "${v.variant}" is given twice`);
    names.add(v.variant);
    checkVariant(where, metric.kind, v);
  }
  if (!names.has(data.control))
    throw new ExperimentSourceError(
      `${where} has no counts for the control "${data.control}" (variants: ${[...names].join(', ') || 'none'})`,
    );
  if (names.size < 2)
    throw new ExperimentSourceError(`${where}: only the control has counts; nothing to compare`);
}

/** Throws an {@link ExperimentSourceError} naming the first thing that makes `data` unanalysable. */
export function validateExperiment(data: ExperimentData): void {
  if (data.metrics.length === 0) throw new ExperimentSourceError('no metrics to analyse');
  const size = data.metrics.reduce((n, m) => n + m.variants.length, 0);
  if (size > MAX_COMPARISONS)
    throw new ExperimentSourceError(
      `${size} metric × variant counts: more than the ${MAX_COMPARISONS} analysed at once`,
    );
  const seen = new Set<string>();
  for (const metric of data.metrics) checkMetric(data, metric, seen);
  const series = data.series ?? [];
  if (series.length > MAX_SERIES_POINTS)
    throw new ExperimentSourceError(
      `${series.length} series points: more than the ${MAX_SERIES_POINTS} analysed`,
    );
  const counts = series.reduce(
    (n, p) => n + p.metrics.reduce((k, m) => k + m.variants.length, 0),
    0,
  );
  if (counts > MAX_SERIES_COUNTS)
    throw new ExperimentSourceError(
      `${counts} counts in the series: more than the ${MAX_SERIES_COUNTS} analysed`,
    );
  for (const point of series)
    for (const metric of point.metrics)
      for (const v of metric.variants)
        checkVariant(`series at ${point.time}, metric "${metric.metric}"`, metric.kind, v);
  for (const [name, share] of Object.entries(data.expectedShares ?? {}))
    if (!count(share))
      throw new ExperimentSourceError(`expected share of "${name}" must be a number ≥ 0`);
  const shares = Object.values(data.expectedShares ?? { any: 1 });
  if (!(shares.reduce((a, w) => a + w, 0) > 0))
    throw new ExperimentSourceError('expected shares must not all be 0');
  for (const [name, assigned] of Object.entries(data.assignment ?? {}))
    if (!users(assigned))
      throw new ExperimentSourceError(`assignment of "${name}" must be a count ≥ 0 and ≤ 2^53`);
}
