import { isObject } from '../evaluator/json-path.js';
import type { Counts } from '../stats/index.js';
import type { GuardrailCounts } from './decide.js';
import type { Guardrail } from './plan.js';
import {
  evidenceFromTotals,
  type EvidenceQuery,
  type MetricReader,
  type OutcomeTotals,
  type WindowEvidence,
} from './readers.js';

/** Options of {@link prometheusReader}. */
export interface PrometheusReaderOptions {
  /** Time allowed for each query. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Extra request headers, e.g. `Authorization` for a protected Prometheus. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** rampflag/otel's outcome metrics as @opentelemetry/exporter-prometheus names them. */
export const PROMETHEUS_SERIES = {
  requests: 'rampflag_requests_total',
  failures: 'rampflag_request_failures_total',
  durationBucket: 'rampflag_request_duration_bucket',
  variant: 'feature_flag_result_variant',
  cohort: 'rampflag_cohort',
  key: 'feature_flag_key',
} as const;

const label = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
const regex = (values: readonly string[]) =>
  values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

/**
 * A reader over Prometheus' HTTP API (`/api/v1/query`, evaluated at the window's end with
 * `increase(…[window])`). Built-in guardrails read rampflag/otel's outcome metrics
 * ({@link PROMETHEUS_SERIES}) by variant and cohort; a custom guardrail's `bad` and `total` PromQL
 * templates get `{{flag}}`, `{{variant}}`, `{{cohort}}` (a regex: `none` for bucketed users, the
 * active rings for ring users; match it with `=~`) and `{{window}}` (e.g. `300s`) filled in, and
 * should sum to one number. Counts are rounded, as `increase` extrapolates.
 */
export function prometheusReader(url: string, options: PrometheusReaderOptions = {}): MetricReader {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  const query = async (promql: string, at: number): Promise<Sample[]> => {
    const params = new URLSearchParams({ query: promql, time: String(at / 1000) });
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/query?${params}`, {
        headers: { ...options.headers },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new Error(`Prometheus at ${base} cannot be reached: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const body = (await res.json().catch(() => undefined)) as
      | { status?: string; error?: string; data?: { resultType?: string; result?: unknown[] } }
      | undefined;
    if (!res.ok || body?.status !== 'success')
      throw new Error(
        `Prometheus at ${base} refused ${promql}: ${res.status} ${body?.error ?? ''}`.trim(),
      );
    const result = body.data?.result ?? [];
    if (body.data?.resultType === 'scalar')
      return [{ metric: {}, value: Number((result as unknown[])[1]) }];
    return result.flatMap((r) => {
      if (!isObject(r) || !Array.isArray(r['value'])) return [];
      const value = Number(r['value'][1]);
      return Number.isFinite(value)
        ? [{ metric: (r['metric'] ?? {}) as Record<string, string>, value }]
        : [];
    });
  };

  const totals = async (q: EvidenceQuery, window: string): Promise<OutcomeTotals> => {
    const by = `sum by (${PROMETHEUS_SERIES.variant}, ${PROMETHEUS_SERIES.cohort})`;
    const of = (series: string, extra = '') =>
      `${by} (increase(${series}{${PROMETHEUS_SERIES.key}=${label(q.flag)}${extra}}[${window}]))`;
    const bounds = [
      ...new Set(
        q.guardrails.flatMap((g) =>
          g.metric === 'slow-rate' && g.slowerThanMs !== undefined ? [g.slowerThanMs] : [],
        ),
      ),
    ];
    const [requests, failures, ...buckets] = await Promise.all([
      query(of(PROMETHEUS_SERIES.requests), q.to),
      query(of(PROMETHEUS_SERIES.failures), q.to),
      ...bounds.map((b) =>
        query(of(PROMETHEUS_SERIES.durationBucket, `,le=${label(String(b))}`), q.to),
      ),
    ]);
    bounds.forEach((b, i) => {
      if ((requests as Sample[]).length > 0 && (buckets[i] as Sample[]).length === 0)
        throw new RangeError(
          `Prometheus at ${base} has no ${PROMETHEUS_SERIES.durationBucket}{le="${b}"} for flag "${q.flag}": slowerThanMs must be one of the histogram's bucket bounds`,
        );
    });
    const key = (s: Sample) =>
      `${s.metric[PROMETHEUS_SERIES.variant] ?? ''}\u0000${s.metric[PROMETHEUS_SERIES.cohort] || 'none'}`;
    const find = (samples: readonly Sample[] | undefined, k: string) =>
      Math.round(samples?.find((s) => key(s) === k)?.value ?? 0);
    return {
      series: (requests as Sample[]).map((s) => {
        const k = key(s);
        const total = Math.round(s.value);
        const [variant = '', cohort = 'none'] = k.split('\u0000');
        const atOrBelow = Object.fromEntries(
          bounds.map((b, i) => [b, Math.min(total, find(buckets[i], k))]),
        );
        return {
          variant,
          cohort,
          requests: total,
          failures: Math.min(total, find(failures, k)),
          atOrBelow,
        };
      }),
    };
  };

  const custom = async (g: Guardrail, q: EvidenceQuery, window: string) => {
    // values go inside the template's quotes: escaped as a PromQL string
    const quoted = (value: string) => label(value).slice(1, -1);
    const fill = (template: string, variant: string, cohort: string) =>
      template
        .replaceAll('{{flag}}', quoted(q.flag))
        .replaceAll('{{variant}}', quoted(variant))
        .replaceAll('{{cohort}}', quoted(cohort))
        .replaceAll('{{window}}', window);
    const count = async (variant: string, cohort: string): Promise<Counts> => {
      const [bad, total] = await Promise.all([
        query(fill(g.bad as string, variant, cohort), q.to),
        query(fill(g.total as string, variant, cohort), q.to),
      ]);
      const sum = (samples: Sample[]) => Math.round(samples.reduce((a, s) => a + s.value, 0));
      return { bad: sum(bad), total: sum(total) };
    };
    const rings = q.rings?.active ?? [];
    const [treatment, control, ring] = await Promise.all([
      count(q.treatment, 'none'),
      count(q.control, 'none'),
      rings.length > 0 ? count(q.treatment, regex(rings)) : Promise.resolve({ bad: 0, total: 0 }),
    ]);
    return { treatment, control, ring };
  };

  return {
    source: `prometheus ${base}`,
    async read(q): Promise<WindowEvidence> {
      const window = `${Math.max(1, Math.round((q.to - q.from) / 1000))}s`;
      const builtIn = q.guardrails.filter((g) => g.metric !== 'custom');
      const evidence = evidenceFromTotals({ ...q, guardrails: builtIn }, await totals(q, window));
      const treatment: Record<string, Counts> = { ...evidence.treatment };
      const control: Record<string, Counts> = { ...evidence.control };
      const ring: Record<string, Counts> = { ...evidence.ring };
      for (const g of q.guardrails.filter((g) => g.metric === 'custom')) {
        const counts = await custom(g, q, window);
        treatment[g.name] = counts.treatment;
        control[g.name] = counts.control;
        ring[g.name] = counts.ring;
      }
      return {
        ...evidence,
        treatment,
        control,
        ...(q.rings === undefined ? {} : { ring: ring as GuardrailCounts }),
      };
    },
  };
}
