import { OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { FlagdProvider, type FlagSource, type FlagSourceSink } from '../../src/index.js';
import { clientFor, until } from '../support/provider-events.js';

afterAll(() => OpenFeature.close());

const FLAGS = {
  flags: {
    tier: {
      state: 'ENABLED',
      variants: { gold: 'gold', std: 'std' },
      defaultVariant: 'std',
      targeting: { if: [{ '==': [{ var: 'region' }, 'eu'] }, 'gold', null] },
    },
  },
};

/** A source driven by the test: it hands its sink out. */
class ManualSource implements FlagSource {
  sink: FlagSourceSink | undefined;
  constructor(private readonly first: (sink: FlagSourceSink) => void) {}
  async start(sink: FlagSourceSink) {
    this.sink = sink;
    this.first(sink);
  }
  async stop() {
    this.sink = undefined;
  }
}

describe('FlagdProvider', () => {
  it('is named flagd and runs on the server', () => {
    const provider = new FlagdProvider({ source: new ManualSource((s) => s.configuration(FLAGS)) });
    expect([provider.metadata.name, provider.runsOn]).toEqual(['flagd', 'server']);
  });

  it('merges the sync context into every evaluation, over the invocation context', async () => {
    const source = new ManualSource((s) => s.configuration(FLAGS, { region: 'eu' }));
    const { client } = await clientFor(new FlagdProvider({ source }));
    expect(await client.getStringValue('tier', '', { region: 'us' })).toBe('gold');
    const enriched = new ManualSource((s) => s.configuration(FLAGS, { zone: 'eu' }));
    const mapped = new FlagdProvider({
      source: enriched,
      contextEnricher: (sync) => ({ region: String(sync?.['zone']) }),
    });
    expect(await (await clientFor(mapped)).client.getStringValue('tier', '')).toBe('gold');
  });

  it('turns source errors and staleness into ERROR and STALE, and recovery into READY', async () => {
    const source = new ManualSource((s) => s.configuration(FLAGS));
    const { client, events } = await clientFor(new FlagdProvider({ source }));
    source.sink?.stale();
    source.sink?.error(new Error('stream broke'));
    source.sink?.configuration(FLAGS);
    await until(() => events.length >= 3, 'three events');
    expect(events.map(([e, d]) => [e, d?.message])).toEqual([
      [ProviderEvents.Stale, 'flag source disconnected; serving the last flags'],
      [ProviderEvents.Error, 'stream broke'],
      [ProviderEvents.Ready, undefined],
    ]);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getStringValue('tier', '', { region: 'eu' })).toBe('gold');
  });

  it("buckets with flagd's v3 fractional under evaluator: { fractional: 'v3' }, else v2", async () => {
    const flags = {
      flags: {
        split: {
          state: 'ENABLED',
          variants: { a: 'a', b: 'b', none: 'none' },
          defaultVariant: 'none',
          targeting: { fractional: [{ var: 'id' }, ['a', 50], ['b', 50]] },
        },
      },
    };
    const source = () => new ManualSource((s) => s.configuration(flags));
    const v3 = await clientFor(
      new FlagdProvider({ source: source(), evaluator: { fractional: 'v3' } }),
    );
    const v2 = await clientFor(new FlagdProvider({ source: source() }));
    // v3 hashes the number's CBOR; v2 needs a string key, so a number gives the default
    const details = await v3.client.getStringDetails('split', '', { id: 123 });
    expect(details).toMatchObject({
      reason: 'TARGETING_MATCH',
      value: expect.stringMatching(/^[ab]$/),
    });
    expect(await v2.client.getStringDetails('split', '', { id: 123 })).toMatchObject({
      reason: 'DEFAULT',
      value: 'none',
    });
  });

  it('is FATAL when the first connection fails with a fatal status code', async () => {
    const failing: FlagSource = {
      start: async () => {
        throw Object.assign(new Error('forbidden'), { code: 'PERMISSION_DENIED' });
      },
      stop: async () => undefined,
    };
    OpenFeature.setProvider(
      'fatal',
      new FlagdProvider({ source: failing, fatalStatusCodes: ['PERMISSION_DENIED'] }),
    );
    const client = OpenFeature.getClient('fatal');
    await until(() => client.providerStatus === ProviderStatus.FATAL, 'the FATAL status');
  });

  it('fails initialisation when no configuration arrives within deadlineMs', async () => {
    const silent: FlagSource = {
      start: () => new Promise(() => undefined),
      stop: async () => undefined,
    };
    await expect(
      new FlagdProvider({ source: silent, deadlineMs: 30 }).initialize(),
    ).rejects.toThrow(/within deadlineMs \(30 ms\)/);
  });

  it.each([
    [{ resolverType: 'rpc' as const, offlineFlagSourcePath: 'flags.json' }, /drop resolverType/],
    [{ resolver: 'rpc' as const, offlineFlagSourcePath: 'flags.json' }, /resolverType is "rpc"/],
  ])('refuses %j at construction, saying what to do instead', (options, message) => {
    expect(() => new FlagdProvider(options)).toThrow(message);
  });

  it('reads a flag file when no resolver is asked for, whatever flagd would default to', () => {
    expect(new FlagdProvider({ offlineFlagSourcePath: 'flags.json' }).config.resolverType).toBe(
      'file',
    );
  });
});

describe("FlagdProvider's sink, given what it cannot load", () => {
  const deep = (n: number) =>
    `{"flags":{"tier":{"state":"ENABLED","variants":{"gold":"gold","std":"std"},"defaultVariant":"gold",` +
    `"targeting":{"$ref":"deep"}}},"$evaluators":{"deep":${'{"if":[true,'.repeat(n)}"gold"${',null]}'.repeat(n)}}}`;

  it('throws an Error that says so (never a RangeError) and keeps the last good flags', async () => {
    const source = new ManualSource((s) => s.configuration(FLAGS));
    const provider = new FlagdProvider({ source });
    await clientFor(provider);
    let thrown: unknown;
    try {
      source.sink?.configuration(deep(5000));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).not.toBe('RangeError');
    expect((thrown as Error).message).toMatch(/(not loaded|invalid flag configuration).*/);
    expect((await provider.resolveStringEvaluation('tier', 'x', {})).value).toBe('std');
  });

  it('takes neither the configuration nor the sync context when the context enricher throws', async () => {
    let calls = 0;
    const source = new ManualSource((s) => s.configuration(FLAGS, { region: 'eu' }));
    const provider = new FlagdProvider({
      source,
      contextEnricher: (syncContext) => {
        if (++calls > 1) throw new TypeError('enricher broke');
        return syncContext ?? {};
      },
    });
    await clientFor(provider);
    expect(() =>
      source.sink?.configuration({ flags: { other: FLAGS.flags.tier } }, { region: 'us' }),
    ).toThrow(/flag configuration not loaded \(enricher broke\)/);
    expect((await provider.resolveStringEvaluation('tier', 'x', {})).value).toBe('gold');
    expect((await provider.resolveStringEvaluation('other', 'x', {})).errorCode).toBe(
      'FLAG_NOT_FOUND',
    );
  });
});
