import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import {
  createTrackingRecorder,
  EXPERIMENT_LABELS,
  EXPERIMENT_METRICS,
  EXPERIMENT_SERIES,
} from 'rampflag/experiment';
import { CollectingReader } from '../support/otel.js';
import { clientFor } from '../support/provider-events.js';

const reader = new CollectingReader();
const meterProvider = new MeterProvider({ readers: [reader] });
afterAll(async () => {
  await OpenFeature.close();
  await meterProvider.shutdown();
});

const FLAGS = {
  checkout: {
    variants: { off: false, on: true },
    defaultVariant: 'off',
    targeting: {
      fractional: [
        ['off', 50],
        ['on', 50],
      ],
    },
    metadata: { experiment: true },
  },
  banner: { variants: { x: 'x' }, defaultVariant: 'x', targeting: { if: [true, 'x', null] } },
};

/** Each data point of a metric as [attributes, value]. */
async function points(name: string) {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return {
    unit: metric?.descriptor.unit,
    points: (metric?.dataPoints ?? []).map((p) => [p.attributes, p.value] as const),
  };
}

describe('tracking metrics', () => {
  it('exports exposures, conversions, events and values per flag, variant and event, as totals counts them', async () => {
    const tracking = createTrackingRecorder({ meter: meterProvider.getMeter('test') });
    const { client } = await clientFor(
      new FlagdProvider({ source: new InMemoryFlagSource(FLAGS), tracking }),
    );
    for (let i = 0; i < 400; i++) {
      const user = { targetingKey: `user-${i}` };
      await client.getBooleanValue('checkout', false, user);
      await client.getBooleanValue('checkout', false, user); // the same user again: one exposure
      await client.getStringValue('banner', 'x', user);
      if (i % 5 === 0) client.track('purchase', user, { value: i % 3 });
      if (i % 10 === 0) client.track('purchase', user, { value: 1.5 });
    }
    client.track('purchase', {}); // no targeting key: checkout's split buckets by it, so no variant
    const totals = tracking.totals('checkout');

    const exposures = await points(EXPERIMENT_METRICS.exposures);
    expect(exposures.unit).toBe('{user}');
    expect(exposures.points).toEqual(
      Object.entries(totals.assignment).map(([variant, users]) => [
        { [EXPERIMENT_LABELS.key]: 'checkout', [EXPERIMENT_LABELS.variant]: variant },
        users,
      ]),
    );
    expect(exposures.points.map(([, v]) => v as number).reduce((a, b) => a + b)).toBe(400);

    const labels = (variant: string) => ({
      'feature_flag.key': 'checkout',
      'feature_flag.result.variant': variant,
      event: 'purchase',
    });
    const purchase = totals.metrics.find((m) => m.metric === 'purchase')?.variants ?? [];
    const revenue = totals.metrics.find((m) => m.metric === 'purchase.value')?.variants ?? [];
    expect((await points(EXPERIMENT_METRICS.conversions)).points).toEqual(
      purchase.map((v) => [labels(v.variant), v.conversions]),
    );
    expect((await points(EXPERIMENT_METRICS.events)).points).toEqual(
      purchase.map((v) => [labels(v.variant), totals.events['purchase']?.[v.variant]]),
    );
    const value = (await points(EXPERIMENT_METRICS.value)).points;
    const squares = (await points(EXPERIMENT_METRICS.valueSquares)).points;
    revenue.forEach((v, i) => {
      expect(value[i]?.[0]).toEqual(labels(v.variant));
      expect(value[i]?.[1]).toBeCloseTo(v.valueSum ?? Number.NaN, 9);
      expect(squares[i]?.[1]).toBeCloseTo(v.valueSumSquares ?? Number.NaN, 9);
    });
    const events = Object.values(totals.events['purchase'] ?? {}).reduce((a, b) => a + b);
    expect(events).toBe(80 + 40);
    expect(tracking.diagnostics()).toEqual({
      events: 121,
      unattributed: 1,
      dropped: 0,
      ignoredValues: 0,
    });
    expect(purchase.reduce((n, v) => n + v.conversions, 0)).toBe(80);
  });

  it('are stored in Prometheus under the names EXPERIMENT_SERIES gives', async () => {
    const serialized = new PrometheusSerializer().serialize(
      (await reader.collect()).resourceMetrics,
    );
    const series = (name: string) =>
      serialized.split('\n').filter((line) => line.startsWith(`${name}{`));
    for (const name of [
      EXPERIMENT_SERIES.exposures,
      EXPERIMENT_SERIES.conversions,
      EXPERIMENT_SERIES.events,
      EXPERIMENT_SERIES.value,
      EXPERIMENT_SERIES.valueSquares,
    ]) {
      expect(serialized).toContain(`# TYPE ${name} counter`);
      expect(series(name).length).toBeGreaterThan(0);
      for (const line of series(name)) {
        expect(line).toContain(`${EXPERIMENT_SERIES.key}="checkout"`);
        expect(line).toMatch(new RegExp(`${EXPERIMENT_SERIES.variant}="(on|off)"`));
        if (name !== EXPERIMENT_SERIES.exposures)
          expect(line).toContain(`${EXPERIMENT_SERIES.event}="purchase"`);
      }
    }
  });
});
