import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlagdProvider, SseFlagSource, type SseFlagSourceOptions } from 'rampflag';
import { clientFor, until } from '../support/provider-events.js';
import { describeHostileSyncPayloads } from '../support/hostile-sync-contract.js';
import { describeStreamingSource, type StreamingHarness } from '../support/streaming-contract.js';
import { syncFlags } from '../support/sync-flags.js';
import { TestSseServer } from '../support/sse-server.js';

afterAll(() => OpenFeature.close());

const providerFor = (url: string, options: SseFlagSourceOptions = {}) =>
  new FlagdProvider({
    source: new SseFlagSource(url, { retryBackoffMs: 20, retryBackoffMaxMs: 100, ...options }),
  });

const harness: StreamingHarness = {
  async serve(syncContext) {
    const server = await new TestSseServer(syncFlags('red'), syncContext).start();
    return {
      provider: (extra = {}) => providerFor(server.url, extra as SseFlagSourceOptions),
      push: (flags) => server.push(flags),
      set: (flags) => {
        server.flags = JSON.stringify(flags);
      },
      stop: () => server.stop(),
      start: () => server.start(),
    };
  },
};

describeStreamingSource('SseFlagSource', harness);
describeHostileSyncPayloads('SseFlagSource', harness);

describe('SseFlagSource specifics', () => {
  const servers: TestSseServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  const serve = async () => {
    const server = await new TestSseServer(syncFlags('red')).start();
    servers.push(server);
    return server;
  };

  it('sends the selector and extra headers', async () => {
    const server = await serve();
    await clientFor(
      providerFor(server.url, {
        selector: 'flagSetId=shop',
        headers: { Authorization: 'Bearer t0ken' },
      }),
    );
    expect(server.requests[0]).toMatchObject({
      'flagd-selector': 'flagSetId=shop',
      authorization: 'Bearer t0ken',
    });
  });

  it('sends Last-Event-ID when it reconnects', async () => {
    const server = await serve();
    server.push(syncFlags('red')); // version 1
    const { events } = await clientFor(providerFor(server.url));
    await server.stop();
    await until(() => events.some(([e]) => e === ProviderEvents.Stale), 'a stale event', 1000);
    await server.start();
    await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event', 3000);
    expect(server.requests.at(-1)?.['last-event-id']).toBe('1');
  });

  it('fails initialisation with the HTTP status when the server refuses', async () => {
    const server = await serve();
    server.status = 403;
    await expect(providerFor(server.url).initialize()).rejects.toThrow(/HTTP 403/);
  });
});
