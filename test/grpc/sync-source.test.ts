import { OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { backoffDelay } from 'rampflag/grpc';
import { clientFor, until } from '../support/provider-events.js';
import { inProcessProvider, syncFlags } from '../support/sync-flags.js';
import { TestSyncServer } from '../support/sync-server.js';

const flags = syncFlags;

const servers: TestSyncServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(() => OpenFeature.close());

async function serve(syncContext?: Record<string, unknown>) {
  const server = await new TestSyncServer(flags('red'), syncContext).start();
  servers.push(server);
  return server;
}

const provider = inProcessProvider;

describe('GrpcSyncSource through FlagdProvider (in-process mode)', () => {
  it('is READY with the served flags, sends the selector and provider id, merges the sync context', async () => {
    const server = await serve({ injectedmetadata: 'set' });
    const { client } = await clientFor(
      provider(server.port, { selector: 'flagSetId=shop', providerId: 'svc-1' }),
    );
    expect(await client.getStringValue('color', '')).toBe('red');
    expect(await client.getStringValue('aware', '')).toBe('INTERNAL');
    expect(server.requests[0]).toEqual({
      request: { providerId: 'svc-1', selector: 'flagSetId=shop' },
      header: 'flagSetId=shop',
    });
  });

  it('delivers each new snapshot as CONFIGURATION_CHANGED', async () => {
    const server = await serve();
    const { client, events } = await clientFor(provider(server.port));
    server.push(flags('blue'));
    await until(
      () => events.some(([e]) => e === ProviderEvents.ConfigurationChanged),
      'a change event',
    );
    expect(
      events.find(([e]) => e === ProviderEvents.ConfigurationChanged)?.[1]?.flagsChanged,
    ).toEqual(['color']);
    expect(await client.getStringValue('color', '')).toBe('blue');
  });

  it('keeps the last good flags when the server sends an invalid payload, and says why', async () => {
    const server = await serve();
    const { client, events } = await clientFor(provider(server.port));
    server.pushRaw('{"flags": {"color": {"state": "MAYBE"}}}');
    await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
    expect(String(events.find(([e]) => e === ProviderEvents.Error)?.[1]?.message)).toMatch(
      /flags.color.state/,
    );
    expect(await client.getStringValue('color', '')).toBe('red');
  });

  it('goes STALE at once when the server goes away, ERROR after the grace period, READY when it returns', async () => {
    const server = await serve();
    const { client, events } = await clientFor(provider(server.port, { retryGracePeriod: 1 }));
    await server.stop();
    await until(() => events.some(([e]) => e === ProviderEvents.Stale), 'a stale event', 500);
    expect(await client.getStringValue('color', '')).toBe('red'); // served from the last good flags
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
  });

  it('is FATAL when the first connection is refused with a fatal status code', async () => {
    const server = await serve();
    server.failWith = grpc.status.PERMISSION_DENIED;
    OpenFeature.setProvider(
      'grpc-fatal',
      provider(server.port, { fatalStatusCodes: ['PERMISSION_DENIED'] }),
    );
    const client = OpenFeature.getClient('grpc-fatal');
    await until(() => client.providerStatus === ProviderStatus.FATAL, 'the FATAL status');
    const attempts = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.requests.length).toBe(attempts); // no reconnect after a fatal status
  });

  it('keeps trying after a failed first connection and becomes READY when flagd comes up', async () => {
    const server = await serve();
    const port = server.port;
    await server.stop();
    OpenFeature.setProvider('grpc-late', provider(port, { deadlineMs: 200 }));
    const client = OpenFeature.getClient('grpc-late');
    await until(() => client.providerStatus === ProviderStatus.ERROR, 'the ERROR status');
    await server.start();
    await until(() => client.providerStatus === ProviderStatus.READY, 'the READY status', 3000);
    expect(await client.getStringValue('color', '')).toBe('red');
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters within the upper half', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, 1000, 12_000, () => 1))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(backoffDelay(10, 1000, 12_000, () => 1)).toBe(12_000);
    expect(backoffDelay(10, 1000, 12_000, () => 0)).toBe(6000);
    expect(backoffDelay(60, 1000, 12_000, () => 0.5)).toBe(9000);
  });
});
