import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenFeature } from '@openfeature/server-sdk';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import {
  analyzeExperiment,
  createTrackingRecorder,
  fromPrometheus,
  fromRecorder,
  type ExperimentData,
} from 'rampflag/experiment';
import { experiment } from '../../src/cli/experiment.js';
import { seededRandom } from '../../src/stats/index.js';
import { fakeIo } from '../support/cli-io.js';
import { binary, describeWithBinary, startPrometheus } from '../support/prometheus.js';

const prometheusBinary = binary('prometheus');
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});

/** A service with a checkout experiment whose tracking counters Prometheus scrapes from /metrics. */
async function trackedService() {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const tracking = createTrackingRecorder({ meter: meterProvider.getMeter('experiment-e2e') });
  const flags = new InMemoryFlagSource({
    checkout: {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: {
        fractional: [
          ['on', 50],
          ['off', 50],
        ],
      },
      metadata: { experiment: true },
    },
  });
  await OpenFeature.setProviderAndWait(
    'experiment-e2e',
    new FlagdProvider({ source: flags, tracking }),
  );
  const server: Server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise((resolve) => server.close(resolve)));
  stops.push(() => meterProvider.shutdown());
  return {
    tracking,
    port: (server.address() as AddressInfo).port,
    client: OpenFeature.getClient('experiment-e2e'),
  };
}

const conversions = (data: ExperimentData) =>
  data.metrics.map((m) => ({
    metric: m.metric,
    variants: m.variants.map(({ variant, users, conversions: c }) => ({ variant, users, c })),
  }));

describeWithBinary(prometheusBinary, 'experiment analysis from a real Prometheus', () => {
  it("reads the tracking recorder's counters as the recorder counts them, and analyses them alike", async () => {
    const service = await trackedService();
    const started = Date.now();
    const random = seededRandom(7);
    for (let i = 0; i < 3_000; i++) {
      const context = { targetingKey: `user-${i}` };
      const on = await service.client.getBooleanValue('checkout', false, context);
      if (random() < (on ? 0.14 : 0.1))
        service.client.track('purchase', context, { value: Math.round(random() * 10_000) / 100 });
    }
    const expected = fromRecorder(service.tracking, 'checkout', { control: 'off' });
    const prometheus = await startPrometheus(prometheusBinary as string, [
      `127.0.0.1:${service.port}`,
    ]);
    stops.push(() => prometheus.stop());

    // the first scrape may predate nothing: Prometheus scrapes every second
    let data: ExperimentData | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      data = await fromPrometheus(prometheus.url, 'checkout', { control: 'off' }).catch(
        () => undefined,
      );
      if (
        data !== undefined &&
        JSON.stringify(conversions(data)) === JSON.stringify(conversions(expected))
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(data?.assignment).toEqual(expected.assignment);
    expect(data?.metrics).toEqual(expected.metrics);
    expect(data?.metrics.map((m) => `${m.metric}:${m.kind}`)).toEqual([
      'purchase:conversion',
      'purchase.value:mean',
    ]);

    await new Promise((resolve) => setTimeout(resolve, 3_000)); // a few scrapes: a series
    const series = await fromPrometheus(prometheus.url, 'checkout', {
      control: 'off',
      since: started,
      at: Date.now(),
    });
    expect(series.series?.length).toBeGreaterThan(2);
    expect(series.series?.at(-1)?.metrics).toEqual(expected.metrics);

    const fake = fakeIo();
    const code = await experiment(
      [
        'analyze',
        '--prometheus',
        prometheus.url,
        '--flag',
        'checkout',
        '--control',
        'off',
        '--json',
      ],
      fake.io,
    );
    expect(fake.err).toEqual([]);
    expect(code).toBe(0);
    const printed = JSON.parse(fake.text()) as { comparisons: { verdict: string }[] };
    expect(printed.comparisons.map((c) => c.verdict)).toEqual(
      analyzeExperiment(expected).comparisons.map((c) => c.verdict),
    );
  }, 60_000);
});
