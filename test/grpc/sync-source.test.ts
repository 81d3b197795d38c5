import * as grpc from '@grpc/grpc-js';
import { OpenFeature, ProviderStatus } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from 'rampflag/grpc';
import { clientFor, until } from '../support/provider-events.js';
import { describeHostileSyncPayloads } from '../support/hostile-sync-contract.js';
import { describeStreamingSource, type StreamingHarness } from '../support/streaming-contract.js';
import { inProcessProvider, syncFlags } from '../support/sync-flags.js';
import { TestSyncServer } from '../support/sync-server.js';

afterAll(() => OpenFeature.close());

const harness: StreamingHarness = {
  async serve(syncContext) {
    const server = await new TestSyncServer(syncFlags('red'), syncContext).start();
    return {
      provider: (extra = {}) => inProcessProvider(server.port, extra),
      push: (flags) => (typeof flags === 'string' ? server.pushRaw(flags) : server.push(flags)),
      set: (flags) => {
        server.flags = JSON.stringify(flags);
      },
      stop: () => server.stop(),
      start: () => server.start(),
    };
  },
};

describeStreamingSource('GrpcSyncSource (in-process mode)', harness);
describeHostileSyncPayloads('GrpcSyncSource (in-process mode)', harness);

describe('GrpcSyncSource specifics', () => {
  const servers: TestSyncServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  const serve = async () => {
    const server = await new TestSyncServer(syncFlags('red')).start();
    servers.push(server);
    return server;
  };

  it('sends the selector in the Flagd-Selector header and the body, and the provider id', async () => {
    const server = await serve();
    await clientFor(
      inProcessProvider(server.port, { selector: 'flagSetId=shop', providerId: 'svc-1' }),
    );
    expect(server.requests[0]).toEqual({
      request: { providerId: 'svc-1', selector: 'flagSetId=shop' },
      header: 'flagSetId=shop',
    });
  });

  it('is FATAL when the first connection is refused with a fatal status code, and stops trying', async () => {
    const server = await serve();
    server.failWith = grpc.status.PERMISSION_DENIED;
    OpenFeature.setProvider(
      'grpc-fatal',
      inProcessProvider(server.port, { fatalStatusCodes: ['PERMISSION_DENIED'] }),
    );
    const client = OpenFeature.getClient('grpc-fatal');
    await until(() => client.providerStatus === ProviderStatus.FATAL, 'the FATAL status');
    const attempts = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.requests.length).toBe(attempts);
  });

  it('keeps trying after a failed first connection and becomes READY when flagd comes up', async () => {
    const server = await serve();
    await server.stop();
    OpenFeature.setProvider('grpc-late', inProcessProvider(server.port, { deadlineMs: 200 }));
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
