import { ProviderEvents } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlagdProvider } from 'rampflag';
import { clientFor, until } from './provider-events.js';
import type { StreamingHarness, StreamingServer } from './streaming-contract.js';
import { syncFlags } from './sync-flags.js';

/**
 * A flag configuration whose shared evaluator is nested `depth` levels deep, as JSON text built
 * without recursion (JSON.stringify itself overflows the stack on it).
 */
export function deepConfiguration(depth: number): string {
  const rule = '{"if":[true,'.repeat(depth) + '{"var":"x"}' + ',null]}'.repeat(depth);
  return (
    '{"flags":{"color":{"state":"ENABLED","variants":{"c":"deep","x":"x"},"defaultVariant":"c",' +
    `"targeting":{"$ref":"deep"}}},"$evaluators":{"deep":${rule}}}`
  );
}

/** JSON text nested `depth` arrays deep. */
export const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/**
 * What every streaming source must survive from a hostile or broken sync server: whatever it sends,
 * the provider reports an error, keeps serving the last good flags, takes the next good snapshot,
 * and the process goes on (an exception out of a stream's handler would end it).
 */
export function describeHostileSyncPayloads(name: string, harness: StreamingHarness): void {
  describe(`${name}: hostile sync payloads`, () => {
    const servers: StreamingServer[] = [];
    const providers: FlagdProvider[] = [];
    afterEach(async () => {
      await Promise.all(providers.splice(0).map((p) => p.onClose()));
      await Promise.all(servers.splice(0).map((s) => s.stop()));
    });
    const serve = async () => {
      const server = await harness.serve();
      servers.push(server);
      const provider = server.provider();
      providers.push(provider);
      return { server, ...(await clientFor(provider)) };
    };

    it.each([
      ['a configuration nested 5,000 deep', deepConfiguration(5000)],
      ['a configuration nested 100,000 deep', deepArray(100_000)],
      ['a flagConfiguration that is not JSON', '{"flags": {"color": '],
      ['an empty flagConfiguration', ''],
      ['a flagConfiguration that is JSON but not an object', '[1, 2, 3]'],
    ])(
      'survives %s: an error, the last good flags, then the next good snapshot',
      async (_, text) => {
        const { server, client, events } = await serve();
        server.push(text);
        await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
        expect(await client.getStringValue('color', '')).toBe('red');
        server.push(syncFlags('blue'));
        await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event');
        expect(await client.getStringValue('color', '')).toBe('blue');
      },
    );
  });
}
