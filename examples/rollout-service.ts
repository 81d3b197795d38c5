/**
 * A service instrumented for guarded rollouts, as the README's Prometheus recipe sets one up:
 * FlagdProvider in in-process mode against a flagd-compatible sync port, rampflag/otel's span hook
 * and outcome recorder (its cohort label taken from the `ring` context attribute), and
 * @opentelemetry/exporter-prometheus serving `/metrics` for Prometheus to scrape.
 *
 * `GET /checkout?user=…&ring=…` evaluates the `checkout` flag and fails as often as the environment
 * says: `BASE_ERROR_RATE` for everyone, `TREATMENT_ERROR_RATE` for users served `on` (an injected
 * regression). `GET /flag?user=…` answers the evaluation details. It prints `listening <port>`.
 *
 *   SYNC_PORT=8015 TREATMENT_ERROR_RATE=0.3 npx tsx examples/rollout-service.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenFeature } from '@openfeature/server-sdk';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { FlagdProvider } from 'rampflag';
import { createOutcomeRecorder, createSpanHook } from 'rampflag/otel';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const baseErrorRate = env('BASE_ERROR_RATE', 0.01);
const treatmentErrorRate = env('TREATMENT_ERROR_RATE', baseErrorRate);

// Metrics: the Prometheus exporter, served by this service's own HTTP server.
const exporter = new PrometheusExporter({ preventServerStart: true });
const meterProvider = new MeterProvider({ readers: [exporter] });
const recorder = createOutcomeRecorder({
  meter: meterProvider.getMeter('rollout-service'),
  cohortAttribute: 'ring',
});

// Flags: in-process evaluation, kept current over flagd's sync protocol.
await OpenFeature.setProviderAndWait(
  new FlagdProvider({
    resolverType: 'in-process',
    host: '127.0.0.1',
    port: env('SYNC_PORT', 8015),
  }),
);
OpenFeature.addHooks(createSpanHook());
const client = OpenFeature.getClient();

const server = createServer(
  recorder.wrap(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/metrics') return exporter.getMetricsRequestHandler(req, res);
    const context = {
      targetingKey: url.searchParams.get('user') ?? 'anonymous',
      ...(url.searchParams.has('ring') ? { ring: url.searchParams.get('ring') as string } : {}),
    };
    const details = await client.getBooleanDetails('checkout', false, context);
    if (url.pathname === '/flag') {
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify(details));
    }
    const failing = Math.random() < (details.value ? treatmentErrorRate : baseErrorRate);
    res.statusCode = failing ? 503 : 200;
    res.end(details.value ? 'new checkout' : 'classic checkout');
  }),
);
server.listen(env('PORT', 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
const stop = () => {
  server.close();
  void OpenFeature.close().then(() => meterProvider.shutdown());
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
