import { EventEmitter } from 'node:events';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import {
  createMetricsHook,
  createOutcomeRecorder,
  EVALUATIONS_METRIC,
  OUTCOME_METRICS,
  runInFlagScope,
  createSpanHook,
} from 'rampflag/otel';
import { installOtel } from '../support/otel.js';

const otel = installOtel();
const source = new InMemoryFlagSource({
  checkout: {
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: {
      fractional: [
        ['on', 50],
        ['off', 50],
      ],
    },
  },
});

beforeAll(() => OpenFeature.setProviderAndWait('metrics', new FlagdProvider({ source })));
afterAll(async () => {
  await OpenFeature.close();
  await otel.uninstall();
});

/** Each data point as [attributes, value]. */
async function points(name: string) {
  const metric = await otel.metric(name);
  return (metric?.dataPoints ?? []).map((p) => [p.attributes, p.value]);
}

describe('createMetricsHook', () => {
  it('counts evaluations by flag key, variant, reason and error type, and nothing else', async () => {
    const client = OpenFeature.getClient('metrics');
    client.addHooks(createMetricsHook({ meter: otel.meter }));
    for (let i = 0; i < 200; i++)
      await client.getBooleanValue('checkout', false, {
        targetingKey: `user-${i}`,
        email: `u${i}@x.io`,
      });
    await client.getBooleanValue('missing', false, { targetingKey: 'user-1' });
    const counted = await points(EVALUATIONS_METRIC);
    const on = counted.find(
      ([a]) => (a as Record<string, unknown>)['feature_flag.result.variant'] === 'on',
    );
    const off = counted.find(
      ([a]) => (a as Record<string, unknown>)['feature_flag.result.variant'] === 'off',
    );
    expect((on?.[1] as number) + (off?.[1] as number)).toBe(200);
    expect(on?.[0]).toEqual({
      'feature_flag.key': 'checkout',
      'feature_flag.result.reason': 'targeting_match',
      'feature_flag.result.variant': 'on',
    });
    expect(counted).toContainEqual([
      {
        'feature_flag.key': 'missing',
        'feature_flag.result.reason': 'error',
        'error.type': 'flag_not_found',
      },
      1,
    ]);
  });
});

describe('createOutcomeRecorder', () => {
  it('records duration, requests and failures per variant evaluated during a request', async () => {
    const recorder = createOutcomeRecorder({ meter: otel.meter });
    const client = OpenFeature.getClient('metrics');
    client.addHooks(createSpanHook()); // fills the request's flag scope
    const handler = recorder.wrap(
      async (req: { user: string }, res: EventEmitter & { statusCode: number }) => {
        const on = await client.getBooleanValue('checkout', false, { targetingKey: req.user });
        res.statusCode = on ? 500 : 200; // the "on" variant is broken
        res.emit('finish');
      },
    );
    for (let i = 0; i < 100; i++) {
      const res = Object.assign(new EventEmitter(), { statusCode: 0 });
      await handler({ user: `user-${i}` }, res);
    }
    const requests = await points(OUTCOME_METRICS.requests);
    const failures = await points(OUTCOME_METRICS.failures);
    const count = (list: unknown[][], variant: string) =>
      (list.find(
        ([a]) => (a as Record<string, unknown>)['feature_flag.result.variant'] === variant,
      )?.[1] as number | undefined) ?? 0;
    expect(count(requests, 'on') + count(requests, 'off')).toBe(100);
    expect(count(failures, 'on')).toBe(count(requests, 'on'));
    expect(count(failures, 'off')).toBe(0);
    const histogram = await otel.metric(OUTCOME_METRICS.duration);
    expect(histogram?.descriptor.unit).toBe('ms');
    expect(histogram?.dataPoints.map((p) => p.attributes['feature_flag.key'])).toEqual([
      'checkout',
      'checkout',
    ]);
  });

  it('records what it is given directly, too', async () => {
    const recorder = createOutcomeRecorder({ meter: otel.meter });
    runInFlagScope(() => recorder.record({ search: 'v2' }, 12, false));
    expect(await points(OUTCOME_METRICS.failures)).toContainEqual([
      { 'feature_flag.key': 'search', 'feature_flag.result.variant': 'v2' },
      1,
    ]);
  });
});
