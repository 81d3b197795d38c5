import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/rollout/plan.js';
import { prometheusReader } from '../../src/rollout/prometheus.js';
import { queryFor } from '../../src/rollout/readers.js';

const queries: { query: string; time: string }[] = [];
let answer: (query: string) => unknown = () => ({
  status: 'success',
  data: { resultType: 'vector', result: [] },
});
let server: Server;
let url = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    const query = params.get('query') ?? '';
    queries.push({ query, time: params.get('time') ?? '' });
    const body = answer(query);
    res.statusCode = (body as { status?: string }).status === 'error' ? 400 : 200;
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const vector = (rows: [Record<string, string>, number][]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: rows.map(([metric, v]) => ({ metric, value: [0, String(v)] })),
  },
});
const series = (variant: string, cohort: string) => ({
  feature_flag_result_variant: variant,
  rampflag_cohort: cohort,
});

const plan = parsePlan({
  flag: 'check"out',
  treatment: 'on',
  control: 'off',
  rings: { attribute: 'ring', stages: ['internal'] },
  steps: [10, 100],
  guardrails: [
    { name: 'errors', metric: 'error-rate', maxIncrease: 0.01 },
    { name: 'latency', metric: 'slow-rate', slowerThanMs: 250, maxIncrease: 0.01 },
    {
      name: 'orders',
      bad: 'sum(increase(orders_total{flag="{{flag}}",variant="{{variant}}",cohort=~"{{cohort}}"}[{{window}}]))',
      total: 'sum(increase(visits_total{variant="{{variant}}",cohort=~"{{cohort}}"}[{{window}}]))',
      higherIsBetter: true,
      maxDecrease: 0.01,
    },
  ],
});

describe('the Prometheus reader', () => {
  it('reads the outcome metrics by variant and cohort over the window, and fills custom templates', async () => {
    queries.length = 0;
    answer = (q) => {
      if (q.includes('rampflag_requests_total'))
        return vector([
          [series('on', 'none'), 1000.4],
          [series('off', 'none'), 9000],
          [series('on', 'internal'), 300],
          [series('off', 'beta'), 50],
        ]);
      if (q.includes('rampflag_request_failures_total'))
        return vector([
          [series('on', 'none'), 12.6],
          [series('on', 'internal'), 3],
        ]);
      if (q.includes('rampflag_request_duration_bucket'))
        return vector([
          [series('on', 'none'), 950],
          [series('off', 'none'), 8900],
          [series('on', 'internal'), 290],
          [series('off', 'beta'), 50],
        ]);
      if (q.includes('orders_total')) return vector([[{}, q.includes('"on"') ? 80 : 700]]);
      if (q.includes('visits_total')) return vector([[{}, q.includes('"on"') ? 1000 : 9000]]);
      return vector([]);
    };
    const reader = prometheusReader(url);
    const evidence = await reader.read(queryFor(plan, ['internal'], 1_000_000, 1_300_000));
    expect(evidence.treatment).toEqual({
      errors: { bad: 13, total: 1000 },
      latency: { bad: 50, total: 1000 },
      orders: { bad: 80, total: 1000 },
    });
    expect(evidence.control).toEqual({
      errors: { bad: 0, total: 9050 },
      latency: { bad: 100, total: 9050 },
      orders: { bad: 700, total: 9000 },
    });
    expect(evidence.ring).toEqual({
      errors: { bad: 3, total: 300 },
      latency: { bad: 10, total: 300 },
      orders: { bad: 80, total: 1000 },
    });
    expect(evidence.exposures).toEqual({ treatment: 1000, control: 9050, unit: 'requests' });
    const texts = queries.map((q) => q.query);
    expect(texts).toContain(
      'sum by (feature_flag_result_variant, rampflag_cohort) (increase(rampflag_requests_total{feature_flag_key="check\\"out"}[300s]))',
    );
    expect(texts).toContain(
      'sum by (feature_flag_result_variant, rampflag_cohort) (increase(rampflag_request_duration_bucket{feature_flag_key="check\\"out",le="250"}[300s]))',
    );
    expect(texts).toContain(
      'sum(increase(orders_total{flag="check\\"out",variant="on",cohort=~"none"}[300s]))',
    );
    expect(texts).toContain('sum(increase(visits_total{variant="on",cohort=~"internal"}[300s]))');
    expect(queries.every((q) => q.time === '1300')).toBe(true);
  });

  it('refuses a slow-rate bound that is not a bucket of the histogram, rather than counting every request slow', async () => {
    answer = (q) =>
      q.includes('rampflag_requests_total')
        ? vector([
            [series('on', 'none'), 100],
            [series('off', 'none'), 900],
          ])
        : vector([]);
    await expect(
      prometheusReader(url).read(queryFor(plan, ['internal'], 0, 60_000)),
    ).rejects.toThrow(
      /has no rampflag_request_duration_bucket\{le="250"\} for flag "check"out": slowerThanMs must be one of the histogram's bucket bounds/,
    );
  });

  it('says which Prometheus refused which query, and when it cannot be reached', async () => {
    answer = () => ({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' });
    await expect(prometheusReader(url).read(queryFor(plan, [], 0, 60_000))).rejects.toThrow(
      new RegExp(`Prometheus at ${url} refused .*: 400 parse error at char 3`),
    );
    await expect(
      prometheusReader('http://127.0.0.1:1', { timeoutMs: 2000 }).read(
        queryFor(plan, [], 0, 60_000),
      ),
    ).rejects.toThrow(/Prometheus at http:\/\/127\.0\.0\.1:1 cannot be reached/);
  });
});
