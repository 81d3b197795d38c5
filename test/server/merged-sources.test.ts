import { afterEach, describe, expect, it } from 'vitest';
import { serverOnFreePorts } from '../support/test-server.js';
import * as grpc from '@grpc/grpc-js';
import { InMemoryFlagSource } from 'rampflag';
import { decodeSyncResponse } from '../../src/grpc/wire.js';
import { mergeSources, readSourceDoc } from '../../src/server/flag-sets.js';
import { clientFor, until } from '../support/provider-events.js';
import { inProcessProvider } from '../support/sync-flags.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const base = () =>
  new InMemoryFlagSource(
    {
      shared: { variants: { a: 'from base' }, defaultVariant: 'a' },
      vip: {
        variants: { yes: true, no: false },
        defaultVariant: 'no',
        targeting: { if: [{ $ref: 'isVip' }, 'yes', null] },
      },
    },
    {
      metadata: { flagSetId: 'base', team: 'core' },
      evaluators: { isVip: { '==': [{ var: 'tier' }, 'gold'] } },
    },
  );
const overlay = () =>
  new InMemoryFlagSource(
    {
      shared: { variants: { b: 'from overlay' }, defaultVariant: 'b', metadata: { team: 'web' } },
      beta: {
        variants: { yes: true, no: false },
        defaultVariant: 'no',
        targeting: { if: [{ $ref: 'isVip' }, 'yes', null] },
      },
    },
    {
      metadata: { flagSetId: 'overlay' },
      evaluators: { isVip: { '==': [{ var: 'tier' }, 'beta'] } },
    },
  );

async function serveBoth(sources = { base: base(), overlay: overlay() }) {
  const server = serverOnFreePorts({
    sources: [
      { name: 'flags/base.json', source: sources.base },
      { name: 'flags/overlay.json', source: sources.overlay },
    ],
  });
  const ports = await server.start();
  stops.push(() => server.stop());
  return { ...ports, ...sources };
}

/** One FetchAllFlags call, as any flagd client makes it. */
async function fetchAll(port: number, selector?: string): Promise<Record<string, unknown>> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (selector !== undefined) metadata.set('flagd-selector', selector);
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        '/flagd.sync.v1.FlagSyncService/FetchAllFlags',
        () => Buffer.alloc(0),
        (b: Buffer) => b,
        {},
        metadata,
        (error, value) => (error ? reject(error) : resolve(value as Buffer)),
      ),
    );
    return JSON.parse(decodeSyncResponse(bytes).flagConfiguration) as Record<string, unknown>;
  } finally {
    client.close();
  }
}

describe('FlagServer with several sources, merged as flagd merges them', () => {
  it('gives a flag key defined twice the later source’s flag, with its set metadata under its own', async () => {
    const { syncPort } = await serveBoth();
    const { client } = await clientFor(inProcessProvider(syncPort));
    const shared = await client.getStringDetails('shared', '');
    expect(shared.value).toBe('from overlay');
    expect(shared.flagMetadata).toEqual({ flagSetId: 'overlay', team: 'web' });
    const vip = await client.getBooleanDetails('vip', false);
    expect(vip.flagMetadata).toEqual({ flagSetId: 'base', team: 'core' });
  });

  it('resolves each source’s $ref with that source’s own shared evaluators', async () => {
    const { syncPort } = await serveBoth();
    const { client } = await clientFor(inProcessProvider(syncPort));
    expect(await client.getBooleanValue('vip', false, { tier: 'gold' })).toBe(true);
    expect(await client.getBooleanValue('vip', false, { tier: 'beta' })).toBe(false);
    expect(await client.getBooleanValue('beta', false, { tier: 'beta' })).toBe(true);
    expect(await client.getBooleanValue('beta', false, { tier: 'gold' })).toBe(false);
  });

  it.each([
    ['source=flags/base.json', ['shared', 'vip'], 'from base'],
    ['flags/overlay.json', ['shared', 'beta'], 'from overlay'],
    ['flagSetId=base', ['vip'], undefined],
    ['flagSetId=overlay', ['shared', 'beta'], 'from overlay'],
    [undefined, ['shared', 'vip', 'beta'], 'from overlay'],
  ])('selector %s serves %j', async (selector, keys, shared) => {
    const { syncPort } = await serveBoth();
    const doc = (await fetchAll(syncPort, selector)) as {
      flags: Record<string, { variants: Record<string, string> }>;
    };
    expect(Object.keys(doc.flags).sort()).toEqual([...keys].sort());
    if (shared !== undefined)
      expect(Object.values(doc.flags['shared']?.variants ?? {})).toEqual([shared]);
  });

  it('a source-selected stream gets its source’s changes and nothing from the other source', async () => {
    const { syncPort, base: baseSource, overlay: overlaySource } = await serveBoth();
    const { client, events } = await clientFor(
      inProcessProvider(syncPort, { selector: 'source=flags/base.json' }),
    );
    overlaySource.setValue('beta', true);
    baseSource.setValue('shared', 'base changed');
    await until(() => events.length > 0, 'a change event');
    expect(events.map(([event, details]) => [event, details?.flagsChanged])).toEqual([
      ['PROVIDER_CONFIGURATION_CHANGED', ['shared']],
    ]);
    expect(await client.getStringValue('shared', '')).toBe('base changed');
  });

  it('refuses a bad update of one source, naming it, and keeps serving every last good flag', async () => {
    const { syncPort, overlay: overlaySource } = await serveBoth();
    expect(() =>
      overlaySource.set('beta', { variants: { yes: true, no: 'no' }, defaultVariant: 'no' }),
    ).toThrow(/flags\/overlay\.json: .*variant/);
    const doc = (await fetchAll(syncPort)) as { flags: Record<string, unknown> };
    expect(Object.keys(doc.flags).sort()).toEqual(['beta', 'shared', 'vip']);
  });

  it('is ready once every source has delivered flags', async () => {
    const { managementPort } = await serveBoth();
    expect((await fetch(`http://127.0.0.1:${managementPort}/readyz`)).status).toBe(200);
  });
});

describe('mergeSources', () => {
  it('keeps a "__proto__" flag key a key, never a prototype', () => {
    const doc = readSourceDoc(
      'a.json',
      '{"flags":{"__proto__":{"state":"ENABLED","variants":{"x":1},"defaultVariant":"x"}}}',
    );
    const other = readSourceDoc(
      'b.json',
      '{"flags":{"b":{"state":"ENABLED","variants":{"y":2},"defaultVariant":"y"}}}',
    );
    const merged = JSON.parse(mergeSources([doc, other])) as { flags: object };
    expect(Object.keys(merged.flags)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(merged.flags)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['variants']).toBeUndefined();
  });

  it("reads YAML within the evaluator's limits, naming the source when it refuses it", () => {
    const yaml = 'flags:\n  a:\n    state: ENABLED\n    variants: {x: 1}\n    defaultVariant: x\n';
    expect(JSON.parse(readSourceDoc('flags.yaml', yaml).json)).toMatchObject({
      flags: { a: { defaultVariant: 'x' } },
    });
    expect(() => readSourceDoc('flags.yaml', 'flags: {}\nflags: {}\n')).toThrow(
      /flags\.yaml: not valid YAML/,
    );
  });

  it('serves a single source exactly as it came', () => {
    const text = '{"$evaluators":{"e":true},"flags":{}, "metadata":{"flagSetId":"x"}}';
    expect(mergeSources([readSourceDoc('a', text)])).toBe(text);
  });

  it('reads the array form of flags', () => {
    const a = readSourceDoc(
      'a',
      '{"flags":[{"key":"k","state":"ENABLED","variants":{"v":1},"defaultVariant":"v"}]}',
    );
    const b = readSourceDoc('b', '{"flags":{}}');
    expect(JSON.parse(mergeSources([a, b]))).toEqual({
      flags: { k: { state: 'ENABLED', variants: { v: 1 }, defaultVariant: 'v' } },
    });
  });

  describe('inlining shared evaluators', () => {
    const flag = (targeting: unknown) => ({
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting,
    });
    /** Evaluators e1…e<count>, each using the previous one twice. */
    const doubling = (count: number) => {
      const evaluators: Record<string, unknown> = { e1: { '==': [{ var: 't' }, 'gold'] } };
      for (let i = 2; i <= count; i++)
        evaluators[`e${i}`] = { or: [{ $ref: `e${i - 1}` }, { $ref: `e${i - 1}` }] };
      return evaluators;
    };
    const other = readSourceDoc('b.json', '{"flags":{}}');

    it('refuses an exponential expansion fast, naming the source, the flag and the evaluator', () => {
      const doc = readSourceDoc(
        'a.json',
        JSON.stringify({ $evaluators: doubling(30), flags: { f: flag({ $ref: 'e30' }) } }),
      );
      const started = performance.now();
      expect(() => mergeSources([doc, other])).toThrow(
        /flags\.f\.targeting: a\.json: targeting expands to 3758096382 nodes once its \$refs are inlined, over the limit of 1000000 \(it uses \$evaluators\.e30\)/,
      );
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it('bounds the nodes of all inlined flags together, and inlines each evaluator once', () => {
      // e16 holds 229,374 nodes: five flags using it are over 1,000,000 together
      const flags = (count: number, name = 'e16') =>
        Object.fromEntries(
          Array.from({ length: count }, (_, i) => [`f${i}`, flag({ $ref: name })]),
        );
      const small = readSourceDoc(
        'a',
        JSON.stringify({ $evaluators: doubling(3), flags: flags(2, 'e3') }),
      );
      const merged = JSON.parse(mergeSources([small, other])) as {
        flags: Record<string, { targeting: unknown }>;
      };
      const e2 = { or: [doubling(1)['e1'], doubling(1)['e1']] };
      expect(merged.flags['f1']?.targeting).toEqual({ or: [e2, e2] });
      const five = readSourceDoc(
        'a',
        JSON.stringify({ $evaluators: doubling(16), flags: flags(5) }),
      );
      expect(() => mergeSources([five, other])).toThrow(
        /flags\.f4\.targeting: a: targeting brings the merged flags to 1146870 nodes/,
      );
    });

    it('leaves a $ref on a cycle as it is (it evaluates to PARSE_ERROR, as in flagd)', () => {
      const doc = readSourceDoc(
        'a',
        JSON.stringify({
          $evaluators: { a: { or: [{ $ref: 'b' }] }, b: { and: [{ $ref: 'a' }] }, c: true },
          flags: { f: flag({ if: [{ $ref: 'a' }, { $ref: 'c' }] }) },
        }),
      );
      expect(JSON.parse(mergeSources([doc, other]))).toMatchObject({
        flags: { f: { targeting: { if: [{ $ref: 'a' }, true] } } },
      });
    });
  });
});
