import { context } from '@opentelemetry/api';
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import { createTrackingRecorder, type TrackingRecorder } from 'rampflag/experiment';
import { currentFlagScope, runInFlagScope, withFlagVariants } from 'rampflag/otel';
import { installOtel } from '../support/otel.js';
import { clientFor } from '../support/provider-events.js';

const checkout = {
  variants: { off: 'classic', on: 'one-page' },
  defaultVariant: 'off',
  targeting: {
    fractional: [
      ['off', 50],
      ['on', 50],
    ],
  },
  metadata: { experiment: true },
};
const other = (variant: string) => (variant === 'on' ? 'off' : 'on');
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Request-scope attribution, with whichever context propagation the test set up. */
function scopeSuite() {
  let tracking: TrackingRecorder;
  let source: InMemoryFlagSource;
  let client: Client;

  beforeAll(async () => {
    tracking = createTrackingRecorder({ requestScope: currentFlagScope });
    source = new InMemoryFlagSource({ checkout });
    ({ client } = await clientFor(new FlagdProvider({ source, tracking })));
  });
  afterAll(() => OpenFeature.close());

  /** Moves every user to the variant `user` was not served, so recomputation disagrees. */
  const reassign = async (served: string) => {
    source.update('checkout', { targeting: { fractional: [[other(served), 1]] } });
    await tick();
  };

  it('attributes an event to the variant the request was served, over a recomputation', async () => {
    source.set('checkout', checkout);
    await tick();
    const user = { targetingKey: 'scoped-1' };
    const served = await runInFlagScope(async () => {
      const { variant } = await client.getStringDetails('checkout', 'classic', user);
      await reassign(variant as string);
      client.track('purchase', user, { value: 5 });
      return variant as string;
    });
    expect(tracking.totals('checkout').events['purchase']).toMatchObject({ [served]: 1 });
    // outside a request, the same event counts for the variant targeting assigns now
    client.track('purchase', user, { value: 5 });
    expect(tracking.totals('checkout').events['purchase']).toEqual({
      [served]: 1,
      [other(served)]: 1,
    });
  });

  it('recomputes for another targeting key, or a flag the request did not evaluate', async () => {
    source.set('checkout', checkout);
    await tick();
    const before = tracking.totals('checkout').events['signup'] ?? {};
    const handler = withFlagVariants(async () => {
      const { variant } = await client.getStringDetails('checkout', 'classic', {
        targetingKey: 'scoped-2',
      });
      await reassign(variant as string);
      client.track('signup', { targetingKey: 'someone-else' });
      return variant as string;
    });
    const served = await handler();
    const signups = tracking.totals('checkout').events['signup'] ?? {};
    expect(signups[other(served)]).toBe((before[other(served)] ?? 0) + 1);
    expect(signups[served] ?? 0).toBe(before[served] ?? 0);
    await runInFlagScope(async () => client.track('visit', { targetingKey: 'scoped-3' }));
    expect(tracking.totals('checkout').events['visit']).toEqual({
      [served]: 0,
      [other(served)]: 1,
    });
  });

  it('without an evaluator to recompute, attributes only what a request scope saw', () => {
    // what a provider that evaluates remotely could hand the recorder: no assignment of its own
    const remote = createTrackingRecorder({ requestScope: currentFlagScope });
    const noEvaluator = { flags: ['checkout'], assign: () => undefined };
    const user = { targetingKey: 'remote-1' };
    runInFlagScope(() => {
      remote.exposure('checkout', 'on', user);
      remote.event('purchase', user, {}, noEvaluator);
    });
    remote.event('purchase', user, {}, noEvaluator);
    expect(remote.totals('checkout').events).toEqual({ purchase: { on: 1 } });
    expect(remote.totals('checkout').assignment).toEqual({ on: 1 });
    expect(remote.diagnostics()).toMatchObject({ events: 2, unattributed: 1 });
  });
}

describe('request-scope attribution with an OpenTelemetry context manager', () => {
  let otel: ReturnType<typeof installOtel>;
  beforeAll(() => {
    otel = installOtel();
  });
  afterAll(() => otel.uninstall());
  scopeSuite();
});

describe("request-scope attribution without a context manager (the scope's AsyncLocalStorage)", () => {
  beforeAll(() => {
    context.disable();
  });
  scopeSuite();
});
