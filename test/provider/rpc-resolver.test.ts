import { OpenFeature, ProviderEvents, ProviderStatus, type Client } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { FlagServer } from 'rampflag/server';
import { FlagdProvider, InMemoryFlagSource, type InMemoryFlag } from '../../src/index.js';
import { clientFor, until } from '../support/provider-events.js';
import { serverOnFreePorts } from '../support/test-server.js';

const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await OpenFeature.close();
});

const FLAGS: Record<string, InMemoryFlag> = {
  enabled: {
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: { if: [{ '==': [{ var: 'tier' }, 'gold'] }, 'on', null] },
  },
  offByDefault: { variants: { on: true, off: false }, defaultVariant: 'off' },
  greeting: { variants: { hi: 'hi', bye: 'bye' }, defaultVariant: 'hi' },
  emptyText: { variants: { none: '' }, defaultVariant: 'none' },
  limit: { variants: { ten: 10, zero: 0 }, defaultVariant: 'ten' },
  ratio: { variants: { half: 0.5 }, defaultVariant: 'half' },
  layout: { variants: { grid: { columns: 3, dense: true } }, defaultVariant: 'grid' },
  codeDefault: { variants: { a: 'A' } },
  retired: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
  broken: { variants: { a: 'A' }, defaultVariant: 'a', targeting: { if: [true, 'missing', null] } },
};

async function serve(source: InMemoryFlagSource, httpPort = 0) {
  const server = serverOnFreePorts({ source, httpPort });
  const ports = await server.start();
  stops.push(() => server.stop());
  return { server, ...ports };
}

async function rpcProvider(port: number, options: Record<string, unknown> = {}) {
  const provider = new FlagdProvider({
    resolverType: 'rpc',
    host: '127.0.0.1',
    port,
    retryBackoffMs: 20,
    retryBackoffMaxMs: 100,
    ...options,
  });
  stops.push(() => provider.onClose());
  return provider;
}

type Call = [string, unknown, Record<string, unknown>];
const details = (client: Client, [key, value, context]: Call) =>
  typeof value === 'boolean'
    ? client.getBooleanDetails(key, value, context as never)
    : typeof value === 'number'
      ? client.getNumberDetails(key, value, context as never)
      : typeof value === 'string'
        ? client.getStringDetails(key, value, context as never)
        : client.getObjectDetails(key, value as never, context as never);

const outcome = async (client: Client, call: Call) => {
  const { value, variant, reason, errorCode, flagMetadata } = await details(client, call);
  return { value, variant, reason, errorCode, flagMetadata };
};

describe("FlagdProvider's RPC resolver against rampflag serve", () => {
  const calls: Call[] = [
    ['enabled', false, {}],
    ['enabled', false, { tier: 'gold', targetingKey: 'u1' }],
    ['offByDefault', true, {}],
    ['greeting', 'x', {}],
    ['emptyText', 'x', {}],
    ['limit', -1, {}],
    ['ratio', -1, {}],
    ['layout', {}, {}],
    ['codeDefault', 'code', {}],
    ['retired', false, {}],
    ['broken', 'x', {}],
    ['missing', 'x', {}],
    ['greeting', false, {}],
    ['layout', 'x', {}],
    ['greeting', {}, {}],
  ];

  it('resolves each type, outcome and error as the in-process evaluator does', async () => {
    const { httpPort } = await serve(new InMemoryFlagSource(FLAGS));
    const rpc = await clientFor(await rpcProvider(httpPort, { cache: 'disabled' }));
    const local = await clientFor(new FlagdProvider({ source: new InMemoryFlagSource(FLAGS) }));
    for (const call of calls) {
      const [remote, inProcess] = [
        await outcome(rpc.client, call),
        await outcome(local.client, call),
      ];
      expect({ call, ...remote }).toEqual({ call, ...inProcess });
    }
  });

  it.each([
    ['missing', 'FLAG_NOT_FOUND'],
    ['limit', 'TYPE_MISMATCH'],
    ['broken', 'GENERAL'],
  ])('maps the status of %s to %s', async (key, code) => {
    const { httpPort } = await serve(new InMemoryFlagSource(FLAGS));
    const { client } = await clientFor(await rpcProvider(httpPort));
    expect(await client.getStringDetails(key, 'fallback')).toMatchObject({
      value: 'fallback',
      reason: 'ERROR',
      errorCode: code,
    });
  });

  it('caches STATIC results (CACHED on a hit), not targeted ones, and flushes a changed key', async () => {
    const source = new InMemoryFlagSource(FLAGS);
    const { httpPort } = await serve(source);
    const { client, events } = await clientFor(await rpcProvider(httpPort));
    expect((await client.getStringDetails('greeting', 'x')).reason).toBe('STATIC');
    expect(await client.getStringDetails('greeting', 'x')).toMatchObject({
      value: 'hi',
      variant: 'hi',
      reason: 'CACHED',
    });
    const gold = { tier: 'gold' };
    expect((await client.getBooleanDetails('enabled', false, gold)).reason).toBe('TARGETING_MATCH');
    expect((await client.getBooleanDetails('enabled', false, gold)).reason).toBe('TARGETING_MATCH');
    source.setValue('greeting', 'hello');
    await until(
      () => events.some(([event]) => event === ProviderEvents.ConfigurationChanged),
      'CONFIGURATION_CHANGED',
    );
    expect(
      events.find(([event]) => event === ProviderEvents.ConfigurationChanged)?.[1],
    ).toMatchObject({ flagsChanged: ['greeting'] });
    expect(await client.getStringDetails('greeting', 'x')).toMatchObject({
      value: 'hello',
      reason: 'STATIC',
    });
    expect((await client.getStringDetails('greeting', 'x')).reason).toBe('CACHED');
  });

  it('is STALE at once when the server goes, ERROR after the grace period, READY on its return', async () => {
    const first = await serve(new InMemoryFlagSource(FLAGS));
    const { client, events } = await clientFor(
      await rpcProvider(first.httpPort, { retryGracePeriod: 1 }),
    );
    expect((await client.getStringDetails('greeting', 'x')).reason).toBe('STATIC');
    await first.server.stop();
    await until(() => client.providerStatus === ProviderStatus.STALE, 'STALE', 2000);
    expect((await client.getStringDetails('greeting', 'x')).reason).toBe('CACHED');
    expect((await client.getNumberDetails('limit', 0)).errorCode).toBe('GENERAL'); // not cached
    await until(() => client.providerStatus === ProviderStatus.ERROR, 'ERROR', 3000);
    const again = new FlagServer({
      source: new InMemoryFlagSource(FLAGS),
      syncPort: 0,
      httpPort: first.httpPort,
      managementPort: 0,
      ofrepPort: 0,
    });
    await again.start();
    stops.push(() => again.stop());
    await until(() => client.providerStatus === ProviderStatus.READY, 'READY again', 3000);
    expect(events.map(([event]) => event)).toEqual([
      ProviderEvents.Stale,
      ProviderEvents.Error,
      ProviderEvents.Ready,
    ]);
    // the cache was purged at ERROR: the first answer comes from the server again
    expect((await client.getStringDetails('greeting', 'x')).reason).toBe('STATIC');
  });

  it('is FATAL when the first connection fails with a fatal status code', async () => {
    const { syncPort } = await serve(new InMemoryFlagSource(FLAGS)); // no evaluation service there
    OpenFeature.setProvider(
      'rpc-fatal',
      await rpcProvider(syncPort, { fatalStatusCodes: ['UNIMPLEMENTED'] }),
    );
    const client = OpenFeature.getClient('rpc-fatal');
    await until(() => client.providerStatus === ProviderStatus.FATAL, 'the FATAL status');
  });

  it('is ERROR, not FATAL, for a status that is not fatal, and resolves no flag', async () => {
    const { syncPort } = await serve(new InMemoryFlagSource(FLAGS));
    OpenFeature.setProvider('rpc-error', await rpcProvider(syncPort));
    const client = OpenFeature.getClient('rpc-error');
    await until(() => client.providerStatus === ProviderStatus.ERROR, 'the ERROR status');
  });
});
