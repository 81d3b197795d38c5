import { boundedText } from '../sources/http-fetch.js';
import { ExperimentSourceError } from './errors.js';
import { EXPERIMENT_SERIES, valueMetricName } from './metrics.js';
import type { ExperimentData, MetricData, SeriesPoint } from './types.js';

/** Options of {@link fromPrometheus}. */
export interface PrometheusExperimentOptions {
  /** The control variant. */
  readonly control: string;
  /** When the totals are read, in ms since the epoch. Default: now. */
  readonly at?: number;
  /**
   * The experiment's start, in ms since the epoch: with it the counters' values from then to `at`
   * are read too (`query_range`), as the data's `series` (for the chart of the lift over time).
   */
  readonly since?: number;
  /** Points of the series, at most. Default 60. */
  readonly points?: number;
  /** The expected split, for the SRM check (e.g. the flag's `fractional` weights). */
  readonly expectedShares?: Readonly<Record<string, number>>;
  /** Time allowed for each query. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Extra request headers, e.g. `Authorization` for a protected Prometheus. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Stops the queries. */
  readonly signal?: AbortSignal;
}

/** The most series (label sets) one query may answer with. */
export const MAX_PROMETHEUS_SERIES = 10_000;
/** The largest answer read (32 MiB). */
const MAX_BODY = 32 * 1024 * 1024;

type Field = 'exposures' | 'conversions' | 'value' | 'valueSquares';
const FIELDS: readonly Field[] = ['exposures', 'conversions', 'value', 'valueSquares'];

/** One series of an answer: its variant, its event ('' for exposures) and its values by time (s). */
interface Sampled {
  readonly variant: string;
  readonly event: string;
  readonly values: ReadonlyMap<number, number>;
}

const label = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

function promql(field: Field, flag: string): string {
  const S = EXPERIMENT_SERIES;
  const by = field === 'exposures' ? S.variant : `${S.variant}, ${S.event}`;
  return `sum by (${by}) (${S[field]}{${S.key}=${label(flag)}})`;
}

/** The answer's series: `value` (instant) or `values` (range), each [seconds, "number"]. */
function sampled(result: unknown[], where: string): Sampled[] {
  if (result.length > MAX_PROMETHEUS_SERIES)
    throw new ExperimentSourceError(
      `${where}: more than ${MAX_PROMETHEUS_SERIES} series`,
      'invalid',
    );
  return result.flatMap((r) => {
    if (typeof r !== 'object' || r === null) return [];
    const { metric, value, values } = r as {
      metric?: Record<string, unknown>;
      value?: unknown;
      values?: unknown;
    };
    const pairs = (
      Array.isArray(values) ? values : Array.isArray(value) ? [value] : []
    ) as unknown[];
    const map = new Map<number, number>();
    for (const pair of pairs) {
      if (!Array.isArray(pair)) continue;
      const [t, v] = pair as [unknown, unknown];
      const n = Number(v);
      if (typeof t === 'number' && Number.isFinite(n)) map.set(t, n);
    }
    const variant = metric?.[EXPERIMENT_SERIES.variant];
    if (typeof variant !== 'string' || variant === '') return [];
    const event = metric?.[EXPERIMENT_SERIES.event];
    return [{ variant, event: typeof event === 'string' ? event : '', values: map }];
  });
}

/** The metrics at one time (seconds), from the four answers. */
function metricsAt(answers: Record<Field, Sampled[]>, t: number | undefined): MetricData[] {
  const at = (s: Sampled) => (t === undefined ? [...s.values.values()][0] : s.values.get(t)) ?? 0;
  const users = new Map<string, number>();
  for (const s of answers.exposures) users.set(s.variant, Math.round(at(s)));
  const variants = [...users.keys()].sort();
  const events = [...new Set(answers.conversions.map((s) => s.event))]
    .filter((e) => e !== '')
    .sort();
  const find = (field: Field, variant: string, event: string) =>
    answers[field].find((s) => s.variant === variant && s.event === event);
  return events.flatMap((event) => {
    const base = (variant: string) => ({
      variant,
      users: users.get(variant) ?? 0,
      conversions: Math.round(
        at(find('conversions', variant, event) ?? { variant, event, values: new Map() }),
      ),
    });
    const conversion: MetricData = {
      metric: event,
      kind: 'conversion',
      variants: variants.map(base),
    };
    const hasValues = answers.value.some((s) => s.event === event);
    if (!hasValues) return [conversion];
    const value = (field: Field, variant: string) => {
      const s = find(field, variant, event);
      return s === undefined ? 0 : at(s);
    };
    const mean: MetricData = {
      metric: valueMetricName(event),
      kind: 'mean',
      variants: variants.map((v) => ({
        ...base(v),
        valueSum: value('value', v),
        valueSumSquares: value('valueSquares', v),
      })),
    };
    return [conversion, mean];
  });
}

/**
 * Reads an experiment's counts from Prometheus: the tracking recorder's counters
 * ({@link EXPERIMENT_SERIES}) for `flag`, summed over instances, by variant and event. Each event
 * is a conversion metric (converters over exposed users) and, where it has values, a mean metric
 * (`<event>.value`, value per exposed user). Totals come from instant queries (`/api/v1/query`)
 * at `at`; with `since`, the series from `query_range` (`/api/v1/query_range`) between the two.
 * The counters count since each service started: a restart resets its counts, so read an
 * experiment whose services ran throughout, or expect the totals to shrink. Throws an
 * {@link ExperimentSourceError}: `unreachable` when Prometheus cannot be reached or refuses a
 * query, `invalid` when it has no exposures for the flag.
 *
 * @example
 * const data = await fromPrometheus('http://prometheus:9090', 'checkout', { control: 'off' });
 */
export async function fromPrometheus(
  url: string,
  flag: string,
  options: PrometheusExperimentOptions,
): Promise<ExperimentData> {
  const base = url.replace(/\/+$/, '');
  const at = options.at ?? Date.now();
  const get = async (path: string, params: Record<string, string>): Promise<unknown[]> => {
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs ?? 10_000),
      ...(options.signal ? [options.signal] : []),
    ]);
    let res: Response;
    try {
      res = await fetch(`${base}${path}?${new URLSearchParams(params)}`, {
        headers: { ...options.headers },
        signal,
      });
    } catch (error) {
      throw new ExperimentSourceError(
        `Prometheus at ${base} cannot be reached: ${(error as Error).message}`,
        'unreachable',
        { cause: error },
      );
    }
    const status = res.status;
    let text: string;
    try {
      text = await boundedText(res, MAX_BODY);
    } catch (error) {
      throw new ExperimentSourceError(
        `Prometheus at ${base} answered ${params['query']} badly: ${(error as Error).message}`,
        'unreachable',
        { cause: error },
      );
    }
    let body: { status?: string; error?: string; data?: { result?: unknown } } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (status !== 200 || body?.status !== 'success' || !Array.isArray(body.data?.result))
      throw new ExperimentSourceError(
        `Prometheus at ${base} refused ${params['query']}: ${status} ${body?.error ?? ''}`.trim(),
        'unreachable',
      );
    return body.data.result as unknown[];
  };
  const instant = await Promise.all(
    FIELDS.map(async (field) => {
      const query = promql(field, flag);
      return sampled(await get('/api/v1/query', { query, time: String(at / 1000) }), query);
    }),
  );
  const totals = Object.fromEntries(FIELDS.map((f, i) => [f, instant[i]])) as Record<
    Field,
    Sampled[]
  >;
  if (totals.exposures.length === 0)
    throw new ExperimentSourceError(
      `Prometheus at ${base} has no ${EXPERIMENT_SERIES.exposures} for flag "${flag}" at ${new Date(at).toISOString()}`,
    );
  const metrics = metricsAt(totals, undefined);
  const assignment = Object.fromEntries(
    totals.exposures.map((s) => [s.variant, Math.round([...s.values.values()][0] ?? 0)]),
  );
  let series: SeriesPoint[] | undefined;
  if (options.since !== undefined) {
    const points = Math.max(2, options.points ?? 60);
    const step = Math.max(1, Math.ceil((at - options.since) / 1000 / (points - 1)));
    // the last point at `at`, the first at or after `since`
    const start = at / 1000 - step * Math.floor((at - options.since) / 1000 / step);
    const range = await Promise.all(
      FIELDS.map(async (field) => {
        const query = promql(field, flag);
        const params = {
          query,
          start: String(start),
          end: String(at / 1000),
          step: `${step}s`,
        };
        return sampled(await get('/api/v1/query_range', params), query);
      }),
    );
    const answers = Object.fromEntries(FIELDS.map((f, i) => [f, range[i]])) as Record<
      Field,
      Sampled[]
    >;
    const times = [...new Set(answers.exposures.flatMap((s) => [...s.values.keys()]))].sort(
      (a, b) => a - b,
    );
    series = times.map((t) => ({
      time: new Date(t * 1000).toISOString(),
      metrics: metricsAt(answers, t),
    }));
  }
  return {
    flag,
    control: options.control,
    metrics,
    assignment,
    ...(options.expectedShares === undefined ? {} : { expectedShares: options.expectedShares }),
    ...(series === undefined ? {} : { series }),
  };
}
