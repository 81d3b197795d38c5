import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlagdProvider, SseFlagSource, type SseFlagSourceOptions } from 'rampflag';
import { clientFor, until } from '../support/provider-events.js';
import { syncFlags } from '../support/sync-flags.js';
import { TestSseServer } from '../support/sse-server.js';

const flags = syncFlags;

const servers: TestSseServer[] = [];
const providers: FlagdProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.onClose()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(() => OpenFeature.close());

async function serve(syncContext?: Record<string, unknown>) {
  const server = await new TestSseServer(flags('red'), syncContext).start();
  servers.push(server);
  return server;
}

function provider(url: string, options: SseFlagSourceOptions = {}) {
  const p = new FlagdProvider({
    source: new SseFlagSource(url, { retryBackoffMs: 20, retryBackoffMaxMs: 100, ...options }),
  });
  providers.push(p);
  return p;
}

describe('SseFlagSource through FlagdProvider', () => {
  it('is READY with the served flags, sends the selector and headers, merges the sync context', async () => {
    const server = await serve({ injectedmetadata: 'set' });
    const { client } = await clientFor(
      provider(server.url, {
        selector: 'flagSetId=shop',
        headers: { Authorization: 'Bearer t0ken' },
      }),
    );
    expect(await client.getStringValue('color', '')).toBe('red');
    expect(await client.getStringValue('aware', '')).toBe('INTERNAL');
    expect(server.requests[0]).toMatchObject({
      'flagd-selector': 'flagSetId=shop',
      authorization: 'Bearer t0ken',
    });
  });

  it('delivers each event as CONFIGURATION_CHANGED, and keeps the last good flags on a bad one', async () => {
    const server = await serve();
    const { client, events } = await clientFor(provider(server.url));
    server.push(flags('blue'));
    await until(
      () => events.some(([e]) => e === ProviderEvents.ConfigurationChanged),
      'a change event',
    );
    expect(await client.getStringValue('color', '')).toBe('blue');
    server.push('{"flags": {"color": {"state": "MAYBE"}}}');
    await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
    expect(String(events.find(([e]) => e === ProviderEvents.Error)?.[1]?.message)).toMatch(
      /flags.color.state/,
    );
    expect(await client.getStringValue('color', '')).toBe('blue');
  });

  it('goes STALE at once, ERROR after the grace period, and READY again with Last-Event-ID', async () => {
    const server = await serve();
    server.push(flags('red')); // version 1
    const { client, events } = await clientFor(provider(server.url, { retryGracePeriod: 1 }));
    await server.stop();
    await until(() => events.some(([e]) => e === ProviderEvents.Stale), 'a stale event', 1000);
    expect(await client.getStringValue('color', '')).toBe('red');
    await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event', 3000);
    server.flags = JSON.stringify(flags('green'));
    await server.start();
    await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event', 3000);
    expect(events.map(([e]) => e).slice(0, 3)).toEqual([
      ProviderEvents.Stale,
      ProviderEvents.Error,
      ProviderEvents.Ready,
    ]);
    expect(await client.getStringValue('color', '')).toBe('green');
    expect(server.requests.at(-1)?.['last-event-id']).toBe('1');
  });

  it('fails initialisation with the HTTP status when the server refuses', async () => {
    const server = await serve();
    server.status = 403;
    await expect(provider(server.url).initialize()).rejects.toThrow(/HTTP 403/);
  });
});
