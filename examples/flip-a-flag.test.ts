/**
 * A test that sets flags in one line and flips one mid-test, with the in-memory source.
 * It runs with the project's tests (`npm test`).
 */
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';

// The code under test: a price that depends on a flag.
async function price(cents: number, user: string): Promise<number> {
  const discount = await OpenFeature.getClient().getBooleanValue('holiday-discount', false, {
    targetingKey: user,
  });
  return discount ? Math.round(cents * 0.8) : cents;
}

const flags = new InMemoryFlagSource();

describe('price', () => {
  beforeAll(() => OpenFeature.setProviderAndWait(new FlagdProvider({ source: flags })));
  afterAll(() => OpenFeature.close());

  it('is full price without the discount, and 20 % off once the flag is flipped', async () => {
    flags.setValue('holiday-discount', false);
    expect(await price(1000, 'alice')).toBe(1000);

    flags.setValue('holiday-discount', true); // flipped mid-test: the next evaluation sees it
    expect(await price(1000, 'alice')).toBe(800);
  });

  it('gives the discount to half of the users in a 50 % rollout', async () => {
    flags.set('holiday-discount', {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: {
        fractional: [
          ['on', 50],
          ['off', 50],
        ],
      },
    });
    const prices = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => price(1000, `user-${i}`)),
    );
    const discounted = prices.filter((p) => p === 800).length;
    expect(discounted).toBeGreaterThan(450);
    expect(discounted).toBeLessThan(550);
  });
});
