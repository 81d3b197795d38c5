import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXPERIMENT_SERIES } from '../../src/experiment/metrics.js';

/** One counter series of the tracking recorder: its labels and its values over time (seconds). */
export interface FakeSeries {
  readonly variant: string;
  readonly event?: string;
  /** [seconds, value] pairs, oldest first. */
  readonly values: readonly (readonly [number, number])[];
}

/** The counters of one flag, by field. */
export interface FakeExperiment {
  readonly flag: string;
  readonly exposures: readonly FakeSeries[];
  readonly conversions: readonly FakeSeries[];
  readonly value?: readonly FakeSeries[];
  readonly valueSquares?: readonly FakeSeries[];
}

const fieldOf = (query: string) =>
  query.includes(EXPERIMENT_SERIES.valueSquares)
    ? 'valueSquares'
    : query.includes(EXPERIMENT_SERIES.value)
      ? 'value'
      : query.includes(EXPERIMENT_SERIES.conversions)
        ? 'conversions'
        : query.includes(EXPERIMENT_SERIES.exposures)
          ? 'exposures'
          : undefined;

/** The counter's value at `t`: the last sample at or before it. */
const valueAt = (s: FakeSeries, t: number) => s.values.filter(([at]) => at <= t).at(-1)?.[1];

/**
 * A stand-in for Prometheus' `/api/v1/query` and `/api/v1/query_range` that answers the
 * experiment reader's `sum by (…) (feature_flag_experiment_…{feature_flag_key="…"})` queries from
 * the given counters (already summed over instances). `refuse` makes every query a 400.
 */
export async function fakeExperimentPrometheus(experiment: FakeExperiment, refuse = false) {
  const queries: { path: string; params: Record<string, string> }[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const params = Object.fromEntries(url.searchParams);
    queries.push({ path: url.pathname, params });
    const query = params['query'] ?? '';
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Connection', 'close');
    if (refuse) {
      res.statusCode = 400;
      res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'refused' }));
      return;
    }
    const field = fieldOf(query);
    const series =
      field === undefined || !query.includes(`${EXPERIMENT_SERIES.key}="${experiment.flag}"`)
        ? []
        : (experiment[field] ?? []);
    const metric = (s: FakeSeries) => ({
      [EXPERIMENT_SERIES.variant]: s.variant,
      ...(s.event === undefined ? {} : { [EXPERIMENT_SERIES.event]: s.event }),
    });
    if (url.pathname === '/api/v1/query') {
      const t = Number(params['time']);
      const result = series.flatMap((s) => {
        const v = valueAt(s, t);
        return v === undefined ? [] : [{ metric: metric(s), value: [t, String(v)] }];
      });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      return;
    }
    if (url.pathname === '/api/v1/query_range') {
      const start = Number(params['start']);
      const end = Number(params['end']);
      const step = Number.parseFloat(params['step'] ?? '60');
      const result = series.map((s) => {
        const values: [number, string][] = [];
        for (let t = start; t <= end + 1e-9; t += step) {
          const v = valueAt(s, t);
          if (v !== undefined) values.push([t, String(v)]);
        }
        return { metric: metric(s), values };
      });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
