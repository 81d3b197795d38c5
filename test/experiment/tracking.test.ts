import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  createEvaluator,
  FlagdProvider,
  InMemoryFlagSource,
  type FlagSource,
  type InMemoryFlag,
} from 'rampflag';
import { createTrackingRecorder, type TrackingTotals } from 'rampflag/experiment';
import { clientFor } from '../support/provider-events.js';

afterAll(() => OpenFeature.close());

const split = (a: string, b: string, weightA = 50) => ({
  fractional: [
    [a, weightA],
    [b, 100 - weightA],
  ],
});

const FLAGS: Record<string, InMemoryFlag> = {
  checkout: {
    variants: { off: 'classic', on: 'one-page' },
    defaultVariant: 'off',
    targeting: split('off', 'on'),
    metadata: { experiment: true },
  },
  // an experiment for French users only: others fall through to the default variant
  pricing: {
    variants: { control: 1, cheaper: 0.9 },
    defaultVariant: 'control',
    targeting: { if: [{ '==': [{ var: 'country' }, 'fr'] }, split('control', 'cheaper'), null] },
    metadata: { experiment: true },
  },
  // an experiment by the provider's `experiments` option, not by metadata
  layout: { variants: { a: true, b: false }, defaultVariant: 'a', targeting: split('a', 'b', 30) },
  // not an experiment
  banner: { variants: { x: 'x', y: 'y' }, defaultVariant: 'x', targeting: split('x', 'y') },
};

/** A flag configuration as a file holds it (every flag with its state). */
const configurationOf = (flags: Record<string, InMemoryFlag>) => ({
  flags: Object.fromEntries(Object.entries(flags).map(([k, f]) => [k, { state: 'ENABLED', ...f }])),
});

/** The same flags evaluated directly: the oracle of every attribution. */
function directVariants(flags: Record<string, InMemoryFlag>, flag: string, contexts: object[]) {
  const evaluator = createEvaluator();
  evaluator.setConfiguration(configurationOf(flags));
  return contexts.map((context) => {
    const result = evaluator.resolveValue(flag, context);
    return result.reason === 'TARGETING_MATCH' ? result.variant : undefined;
  });
}

function metric(totals: TrackingTotals, name: string) {
  const found = totals.metrics.find((m) => m.metric === name);
  return Object.fromEntries((found?.variants ?? []).map((v) => [v.variant, v]));
}

async function trackedClient(flags = FLAGS) {
  const tracking = createTrackingRecorder();
  const provider = new FlagdProvider({
    source: new InMemoryFlagSource(flags),
    tracking,
    experiments: ['layout'],
  });
  const { client } = await clientFor(provider);
  return { tracking, provider, client };
}

describe('FlagdProvider.track with a tracking recorder', () => {
  it('counts exposures, converters, events and per-user values that match a direct evaluation', async () => {
    const { tracking, client } = await trackedClient();
    const users = Array.from({ length: 3000 }, (_, i) => ({
      targetingKey: `user-${i}`,
      country: i % 2 === 0 ? 'fr' : 'de',
    }));
    for (const context of users) {
      await client.getStringValue('checkout', 'classic', context);
      await client.getNumberValue('pricing', 1, context);
      await client.getBooleanValue('layout', true, context);
      await client.getStringValue('banner', 'x', context);
    }
    // a third buy, some twice; a value per purchase; users who buy twice add up their values
    const buyers = users.filter((_, i) => i % 3 === 0);
    const valueOf = (i: number) => (i % 7) + 0.5;
    buyers.forEach((context, i) => {
      client.track('purchase', context, { value: valueOf(i) });
      if (i % 4 === 0) client.track('purchase', context, { value: 2 });
    });

    for (const flag of ['checkout', 'pricing', 'layout']) {
      const assigned = directVariants(FLAGS, flag, users);
      const bought = directVariants(FLAGS, flag, buyers);
      const totals = tracking.totals(flag);
      const purchase = metric(totals, 'purchase');
      const revenue = metric(totals, 'purchase.value');
      for (const variant of new Set(assigned.filter((v) => v !== undefined))) {
        const expected = { users: 0, conversions: 0, sum: 0, squares: 0, events: 0 };
        assigned.forEach((v) => v === variant && expected.users++);
        bought.forEach((v, i) => {
          if (v !== variant) return;
          const total = valueOf(i) + (i % 4 === 0 ? 2 : 0);
          expected.conversions++;
          expected.events += i % 4 === 0 ? 2 : 1;
          expected.sum += total;
          expected.squares += total * total;
        });
        expect(totals.assignment[variant]).toBe(expected.users);
        expect(purchase[variant]).toEqual({
          variant,
          users: expected.users,
          conversions: expected.conversions,
        });
        expect(revenue[variant]?.valueSum).toBeCloseTo(expected.sum, 9);
        expect(revenue[variant]?.valueSumSquares).toBeCloseTo(expected.squares, 6);
        expect(totals.events['purchase']?.[variant]).toBe(expected.events);
      }
      expect(totals.overflowed).toBe(false);
    }
    // pricing's audience is the French half: the others are in no variant
    const pricing = tracking.totals('pricing', 'control');
    expect(Object.values(pricing.assignment).reduce((a, b) => a + b)).toBe(1500);
    expect(pricing.control).toBe('control');
    expect(tracking.flags()).toEqual(['checkout', 'layout', 'pricing']);
    expect(tracking.totals('banner').metrics).toEqual([]);
  });

  it('counts an event without a targeting key as an event, never as a user', async () => {
    const flags: Record<string, InMemoryFlag> = {
      // assigned by country, so a context without a targeting key still has a variant
      promo: {
        variants: { on: true, off: false },
        defaultVariant: 'off',
        targeting: { if: [{ '==': [{ var: 'country' }, 'fr'] }, 'on', 'off'] },
        metadata: { experiment: true },
      },
    };
    const { tracking, client } = await trackedClient(flags);
    await client.getBooleanValue('promo', false, { country: 'fr' });
    client.track('purchase', { country: 'fr' }, { value: 10 });
    client.track('purchase', { country: 'fr', targetingKey: 'u1' }, { value: 5 });
    const totals = tracking.totals('promo');
    expect(totals.events).toEqual({ purchase: { on: 2 } });
    // the evaluation had no targeting key; u1, tracked, is assigned `on` (intention to treat)
    expect(totals.assignment).toEqual({ on: 1 });
    expect(metric(totals, 'purchase')['on']).toEqual({ variant: 'on', users: 1, conversions: 1 });
    expect(metric(totals, 'purchase.value')['on']).toMatchObject({
      valueSum: 5,
      valueSumSquares: 25,
    });
  });

  it('ignores values that are not finite numbers ≥ 0 and still counts their events', async () => {
    const { tracking, client } = await trackedClient();
    const context = { targetingKey: 'v-1' };
    const variant = directVariants(FLAGS, 'checkout', [context])[0] as string;
    for (const value of [Number.NaN, -1, Number.POSITIVE_INFINITY, '5' as unknown as number])
      client.track('refund', context, { value });
    client.track('refund', context, { value: 3 });
    expect(tracking.diagnostics()).toMatchObject({ events: 5, ignoredValues: 4, unattributed: 0 });
    expect(tracking.totals('checkout').events['refund']).toEqual({ [variant]: 5 });
    expect(metric(tracking.totals('checkout'), 'refund.value')[variant]).toMatchObject({
      conversions: 1,
      valueSum: 3,
      valueSumSquares: 9,
    });
  });

  it('finds experiments by flag-set metadata, which a flag can override, and again after a change', async () => {
    const source = new InMemoryFlagSource(
      {
        a: { variants: { x: 1, y: 2 }, defaultVariant: 'x', targeting: split('x', 'y') },
        b: {
          variants: { x: 1, y: 2 },
          defaultVariant: 'x',
          targeting: split('x', 'y'),
          metadata: { experiment: false },
        },
      },
      { metadata: { experiment: true } },
    );
    const tracking = createTrackingRecorder();
    const { client } = await clientFor(new FlagdProvider({ source, tracking }));
    client.track('visit', { targetingKey: 'u' });
    expect(tracking.flags()).toEqual(['a']);
    source.update('b', { metadata: { experiment: true } });
    await new Promise((resolve) => setTimeout(resolve, 0));
    client.track('visit', { targetingKey: 'u' });
    expect(tracking.flags()).toEqual(['a', 'b']);
    expect(tracking.totals('a').events['visit']).toBeDefined();
  });

  it('recomputes with the sync-context enrichment, as evaluations see it', async () => {
    const flags = { pricing: FLAGS['pricing'] as InMemoryFlag };
    const source: FlagSource = {
      async start(sink) {
        sink.configuration(configurationOf(flags), { country: 'fr' });
      },
      async stop() {},
    };
    const tracking = createTrackingRecorder();
    const { client } = await clientFor(new FlagdProvider({ source, tracking }));
    client.track('purchase', { targetingKey: 'user-1' });
    const variant = directVariants(flags, 'pricing', [
      { targetingKey: 'user-1', country: 'fr' },
    ])[0];
    expect(tracking.totals('pricing').events).toEqual({ purchase: { [variant as string]: 1 } });
  });

  it('counts an event no experiment assigns as unattributed', async () => {
    const { tracking, client } = await trackedClient({ pricing: FLAGS['pricing'] as InMemoryFlag });
    client.track('purchase', { targetingKey: 'user-1', country: 'de' });
    expect(tracking.diagnostics()).toEqual({
      events: 1,
      unattributed: 1,
      dropped: 0,
      ignoredValues: 0,
    });
    expect(tracking.flags()).toEqual([]);
  });

  it('does nothing without a recorder, and the client does not call it before the provider is ready', async () => {
    const plain = new FlagdProvider({ source: new InMemoryFlagSource(FLAGS) });
    expect(() => plain.track('purchase', { targetingKey: 'u' }, {})).not.toThrow();

    const tracking = createTrackingRecorder();
    const never: FlagSource = { start: () => new Promise(() => {}), async stop() {} };
    const waiting = new FlagdProvider({ source: never, tracking, deadlineMs: 60_000 });
    const track = vi.spyOn(waiting, 'track');
    void OpenFeature.setProvider('not-ready', waiting);
    OpenFeature.getClient('not-ready').track('purchase', { targetingKey: 'u' });
    expect(track).not.toHaveBeenCalled();
    expect(tracking.diagnostics().events).toBe(0);
    await OpenFeature.clearProviders();
  });

  it('keeps the application running when a tracking sink throws', async () => {
    const warn = vi.fn();
    const broken = {
      exposure() {
        throw new Error('exposure broke');
      },
      event() {
        throw new Error('event broke');
      },
    };
    const provider = new FlagdProvider(
      { source: new InMemoryFlagSource(FLAGS), tracking: broken },
      { warn, error() {}, info() {}, debug() {} },
    );
    const { client } = await clientFor(provider);
    expect(await client.getStringValue('checkout', 'classic', { targetingKey: 'u' })).not.toBe('');
    client.track('purchase', { targetingKey: 'u' });
    expect(warn.mock.calls.map(([m]) => m)).toEqual([
      'flagd provider: tracking failed: exposure broke',
      'flagd provider: tracking failed: event broke',
    ]);
  });
});
