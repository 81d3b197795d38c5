import { OpenFeature, ProviderEvents, ErrorCode } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource, isInvalidConfigurationError } from '../../src/index.js';
import { clientFor, until } from '../support/provider-events.js';

afterAll(() => OpenFeature.close());

const toggle = { variants: { on: true, off: false }, defaultVariant: 'off' } as const;

describe('InMemoryFlagSource', () => {
  it('serves its flags and delivers each change as CONFIGURATION_CHANGED', async () => {
    const source = new InMemoryFlagSource({ checkout: toggle });
    const { client, events } = await clientFor(new FlagdProvider({ source }));
    expect(await client.getBooleanValue('checkout', true)).toBe(false);

    source.setValue('checkout', true);
    expect(await client.getBooleanValue('checkout', false)).toBe(true);
    source.update('checkout', {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'on', null] },
    });
    expect(await client.getBooleanValue('checkout', true, { plan: 'pro' })).toBe(true);
    source.set('banner', { variants: { text: 'hello' }, defaultVariant: 'text' });
    source.remove('checkout');
    expect((await client.getBooleanDetails('checkout', true)).errorCode).toBe(
      ErrorCode.FLAG_NOT_FOUND,
    );

    await until(() => events.length >= 4, 'four change events');
    expect(events.map(([event, details]) => [event, details?.flagsChanged])).toEqual([
      [ProviderEvents.ConfigurationChanged, ['checkout']],
      [ProviderEvents.ConfigurationChanged, ['checkout']],
      [ProviderEvents.ConfigurationChanged, ['banner']],
      [ProviderEvents.ConfigurationChanged, ['checkout']],
    ]);
  });

  it('rejects a bad change at once and keeps the flags as they were', async () => {
    const source = new InMemoryFlagSource({ checkout: toggle });
    const { client } = await clientFor(new FlagdProvider({ source }));
    let thrown: unknown;
    try {
      source.set('checkout', { variants: { on: true, off: 'no' }, defaultVariant: 'maybe' });
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidConfigurationError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(/flags.checkout.variants.off/);
    expect(source.flags['checkout']).toEqual(toggle);
    expect(await client.getBooleanValue('checkout', true)).toBe(false);
  });

  it('validates before it is started, too', () => {
    expect(() => new InMemoryFlagSource({ x: { variants: {} } })).toThrow(/flags.x.variants/);
    expect(() => new InMemoryFlagSource().update('ghost', {})).toThrow(/no flag "ghost"/);
  });

  it('carries flag-set metadata and shared evaluators', async () => {
    const source = new InMemoryFlagSource(
      { vip: { ...toggle, targeting: { if: [{ $ref: 'isVip' }, 'on', null] } } },
      {
        metadata: { flagSetId: 'shop' },
        evaluators: { isVip: { '==': [{ var: 'tier' }, 'vip'] } },
      },
    );
    const provider = new FlagdProvider({ source });
    const { client } = await clientFor(provider);
    const details = await client.getBooleanDetails('vip', false, { tier: 'vip' });
    expect([details.value, details.flagMetadata]).toEqual([true, { flagSetId: 'shop' }]);
    expect(provider.flagSetMetadata).toEqual({ flagSetId: 'shop' });
  });
});
