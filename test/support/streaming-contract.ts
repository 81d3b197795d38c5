import { ProviderEvents } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlagdProvider } from 'rampflag';
import { clientFor, until } from './provider-events.js';
import { syncFlags } from './sync-flags.js';

/** A sync server under test and how to point a provider at it. */
export interface StreamingHarness {
  /** Serves `syncFlags('red')`, with `syncContext` beside every snapshot. */
  serve(syncContext?: Record<string, unknown>): Promise<StreamingServer>;
}

export interface StreamingServer {
  provider(extra?: Record<string, unknown>): FlagdProvider;
  /** Sends a new snapshot (flags, or raw configuration text). */
  push(flags: object | string): void;
  /** The flags served from the next (re)connection on. */
  set(flags: object): void;
  stop(): Promise<void>;
  start(): Promise<unknown>;
}

/**
 * What every streaming source must do, per flagd's provider spec: serve the snapshot with its sync
 * context, deliver changes, keep the last good flags on a bad payload, and go STALE at once, ERROR
 * after the grace period and READY when the server returns.
 */
export function describeStreamingSource(name: string, harness: StreamingHarness): void {
  describe(`${name}: the streaming-source contract`, () => {
    const servers: StreamingServer[] = [];
    const providers: FlagdProvider[] = [];
    afterEach(async () => {
      await Promise.all(providers.splice(0).map((p) => p.onClose()));
      await Promise.all(servers.splice(0).map((s) => s.stop()));
    });
    /** A server whose providers are closed after each test, so none keeps reconnecting. */
    const serve = async (syncContext?: Record<string, unknown>): Promise<StreamingServer> => {
      const server = await harness.serve(syncContext);
      servers.push(server);
      return {
        ...server,
        provider: (extra) => {
          const provider = server.provider(extra);
          providers.push(provider);
          return provider;
        },
      };
    };

    it('is READY with the served flags and merges the sync context', async () => {
      const server = await serve({ injectedmetadata: 'set' });
      const { client } = await clientFor(server.provider());
      expect(await client.getStringValue('color', '')).toBe('red');
      expect(await client.getStringValue('aware', '')).toBe('INTERNAL');
    });

    it('delivers a new snapshot as CONFIGURATION_CHANGED', async () => {
      const server = await serve();
      const { client, events } = await clientFor(server.provider());
      server.push(syncFlags('blue'));
      await until(
        () => events.some(([e]) => e === ProviderEvents.ConfigurationChanged),
        'a change event',
      );
      expect(
        events.find(([e]) => e === ProviderEvents.ConfigurationChanged)?.[1]?.flagsChanged,
      ).toEqual(['color']);
      expect(await client.getStringValue('color', '')).toBe('blue');
    });

    it('keeps the last good flags on an invalid payload, and says why', async () => {
      const server = await serve();
      const { client, events } = await clientFor(server.provider());
      server.push('{"flags": {"color": {"state": "MAYBE"}}}');
      await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
      expect(String(events.find(([e]) => e === ProviderEvents.Error)?.[1]?.message)).toMatch(
        /flags.color.state/,
      );
      expect(await client.getStringValue('color', '')).toBe('red');
    });

    it('goes STALE at once when the server goes, ERROR after the grace period, READY when it returns', async () => {
      const server = await serve();
      const { client, events } = await clientFor(server.provider({ retryGracePeriod: 1 }));
      await server.stop();
      await until(() => events.some(([e]) => e === ProviderEvents.Stale), 'a stale event', 1000);
      expect(await client.getStringValue('color', '')).toBe('red'); // the last good flags
      await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event', 3000);
      server.set(syncFlags('green'));
      await server.start();
      await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event', 3000);
      expect(events.map(([e]) => e).slice(0, 3)).toEqual([
        ProviderEvents.Stale,
        ProviderEvents.Error,
        ProviderEvents.Ready,
      ]);
      expect(await client.getStringValue('color', '')).toBe('green');
    });
  });
}
