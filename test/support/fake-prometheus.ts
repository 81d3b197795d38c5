import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Requests and failures per variant (bucketed users, cohort "none"), as a window's increase. */
export interface FakeTraffic {
  on: { requests: number; failures: number };
  off: { requests: number; failures: number };
}

/**
 * A stand-in for Prometheus' `/api/v1/query` that answers rampflag's outcome queries with the
 * given counts, by variant, whatever the window; records the queries it was sent.
 */
export async function fakePrometheus(traffic: FakeTraffic) {
  const queries: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    const field = query.includes('rampflag_request_failures_total') ? 'failures' : 'requests';
    const result = (['on', 'off'] as const).map((variant) => ({
      metric: { feature_flag_result_variant: variant, rampflag_cohort: 'none' },
      value: [Number(url.searchParams.get('time')), String(traffic[variant][field])],
    }));
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    traffic,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
