import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { FlagdProvider as PublishedProvider } from '@openfeature/flagd-provider';
import type { JsonObject } from '@openfeature/core';
import { OpenFeature, ProviderEvents, type EvaluationContext } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryFlagSource } from 'rampflag';
import {
  decodeEventMessage,
  decodeResolveAllResponse,
  decodeResolveResponse,
  encodeResolveAllRequest,
  encodeResolveRequest,
  type EventMessage,
  type ResolveKind,
} from '../../src/grpc/evaluation-wire.js';
import { serveStopping, shopFlags } from '../support/test-server.js';
import { until } from '../support/provider-events.js';
import { testbedDir } from '../support/shared-data.js';
import { detailsBySample, INTEROP_CONTEXTS } from '../support/testbed.js';

const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await OpenFeature.close();
});

const serve = (source: InMemoryFlagSource) => serveStopping(stops, { source });

const identity = (b: Buffer) => b;
const raw = (path: string, responseStream = false) => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: (m: Uint8Array) => Buffer.from(m),
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

/** A grpc-js client speaking the evaluation service through rampflag's codec. */
function rawClient(port: number, service = 'flagd.evaluation.v1.Service') {
  const methods: Record<string, ReturnType<typeof raw>> = {};
  for (const kind of ['Boolean', 'String', 'Int', 'Float', 'Object', 'All'])
    methods[`Resolve${kind}`] = raw(`/${service}/Resolve${kind}`);
  methods['EventStream'] = raw(`/${service}/EventStream`, true);
  const Client = grpc.makeGenericClientConstructor(methods, service);
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  stops.push(() => client.close());
  type Unary = (
    message: Uint8Array,
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null, response?: Buffer) => void,
  ) => void;
  const call = (method: string, message: Uint8Array, metadata = new grpc.Metadata()) =>
    new Promise<Buffer>((resolve, reject) =>
      ((client as unknown as Record<string, Unary>)[method] as Unary).call(
        client,
        message,
        metadata,
        (error, response) => (error ? reject(error) : resolve(response as Buffer)),
      ),
    );
  return {
    resolve: async (
      kind: ResolveKind,
      flagKey: string,
      context: JsonObject = {},
      selector?: string,
    ) => {
      const metadata = new grpc.Metadata();
      if (selector !== undefined) metadata.set('flagd-selector', selector);
      return decodeResolveResponse(
        kind,
        await call(`Resolve${kind}`, encodeResolveRequest({ flagKey, context }), metadata),
      );
    },
    resolveAll: async (context: JsonObject = {}) =>
      decodeResolveAllResponse(await call('ResolveAll', encodeResolveAllRequest(context))),
    events: () => {
      const stream = (
        client as unknown as { EventStream(m: Uint8Array): grpc.ClientReadableStream<Buffer> }
      ).EventStream(new Uint8Array(0));
      const received: EventMessage[] = [];
      stream.on('data', (bytes: Buffer) => received.push(decodeEventMessage(bytes)));
      stream.on('error', () => {});
      stops.push(() => stream.cancel());
      return received;
    },
  };
}

const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'OK',
    (error: grpc.ServiceError) => grpc.status[error.code],
  );

describe('gRPC on the evaluation port', () => {
  it('resolves each type over gRPC on the same port as Connect JSON', async () => {
    const { httpPort } = await serve(shopFlags());
    const client = rawClient(httpPort);
    expect(await client.resolve('Boolean', 'checkout', { ring: 'internal' })).toEqual({
      value: true,
      reason: 'TARGETING_MATCH',
      variant: 'on',
      metadata: { owner: 'payments', flagSetId: 'shop' },
    });
    expect((await client.resolve('Int', 'limit')).value).toBe(10);
    expect((await client.resolve('Float', 'limit')).value).toBe(10);
    expect(await client.resolve('String', 'codeDefault').catch((e) => e.code)).toBe(
      grpc.status.NOT_FOUND,
    );
    const connect = await fetch(
      `http://127.0.0.1:${httpPort}/flagd.evaluation.v1.Service/ResolveBoolean`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ flagKey: 'checkout', context: { ring: 'internal' } }),
      },
    );
    expect(((await connect.json()) as { value: boolean }).value).toBe(true);
  });

  it('answers errors with flagd status mapping', async () => {
    const { httpPort } = await serve(
      new InMemoryFlagSource({
        text: { variants: { a: 'A' }, defaultVariant: 'a' },
        broken: {
          variants: { a: 'A' },
          defaultVariant: 'a',
          targeting: { if: [true, 'missing', null] },
        },
        object: { variants: { a: { n: 1 } }, defaultVariant: 'a' },
      }),
    );
    const client = rawClient(httpPort);
    expect(await statusOf(client.resolve('Boolean', 'nope'))).toBe('NOT_FOUND');
    expect(await statusOf(client.resolve('Int', 'text'))).toBe('INVALID_ARGUMENT');
    expect(await statusOf(client.resolve('String', 'broken'))).toBe('UNKNOWN');
    expect(await statusOf(client.resolve('String', 'object'))).toBe('INVALID_ARGUMENT');
    expect(await client.resolve('Object', 'object')).toMatchObject({ value: { n: 1 } });
    expect(await statusOf(client.resolve('String', 'text', {}, 'bogus=x'))).toBe(
      'INVALID_ARGUMENT',
    );
    const v2 = rawClient(httpPort, 'flagd.evaluation.v2.Service');
    expect(await statusOf(v2.resolveAll())).toBe('UNIMPLEMENTED');
    const unknown = rawClient(httpPort, 'flagd.evaluation.v9.Service');
    expect(await statusOf(unknown.resolve('String', 'text'))).toBe('UNIMPLEMENTED');
  });

  it('counts each call in rampflag_grpc_requests_total by method and status', async () => {
    const { httpPort, managementPort } = await serve(shopFlags());
    const client = rawClient(httpPort);
    await client.resolve('Boolean', 'checkout');
    await client.resolve('Boolean', 'checkout');
    await statusOf(client.resolve('Boolean', 'nope'));
    await client.resolveAll();
    await statusOf(rawClient(httpPort, 'flagd.evaluation.v9.Service').resolve('String', 'x'));
    const series = async () => {
      const text = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
      return text.split('\n').filter((line) => line.startsWith('rampflag_grpc_requests_total{'));
    };
    // a call is counted as its stream closes, which may follow the client's answer by a moment
    let counted = await series();
    for (let tries = 0; counted.length < 4 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      counted = await series();
    }
    expect(counted.sort()).toEqual([
      'rampflag_grpc_requests_total{method="ResolveAll",code="OK"} 1',
      'rampflag_grpc_requests_total{method="ResolveBoolean",code="NOT_FOUND"} 1',
      'rampflag_grpc_requests_total{method="ResolveBoolean",code="OK"} 2',
      'rampflag_grpc_requests_total{method="unknown",code="UNIMPLEMENTED"} 1',
    ]);
  });

  it('serves v2 (value and variant absent when there is none) and the legacy schema.v1', async () => {
    const { httpPort } = await serve(shopFlags());
    const v2 = rawClient(httpPort, 'flagd.evaluation.v2.Service');
    expect(await v2.resolve('String', 'codeDefault')).toEqual({
      reason: 'DEFAULT',
      metadata: { flagSetId: 'shop' },
    });
    expect((await v2.resolve('Boolean', 'checkout')).value).toBe(false); // present though false
    const legacy = rawClient(httpPort, 'schema.v1.Service');
    expect((await legacy.resolve('Int', 'limit')).value).toBe(10);
  });

  it('ResolveAll returns every flag with a value, typed by its value', async () => {
    const { httpPort } = await serve(shopFlags());
    const all = await rawClient(httpPort).resolveAll({ ring: 'internal' });
    expect(Object.keys(all.flags).sort()).toEqual(['checkout', 'limit']);
    expect(all.flags['checkout']).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
    });
    expect(all.flags['limit']).toMatchObject({ value: 10, variant: 'ten', reason: 'STATIC' });
    expect(all.metadata).toEqual({ flagSetId: 'shop' });
  });

  it('EventStream: provider_ready first, then configuration_change with the changed keys; counted in delivery', async () => {
    const source = new InMemoryFlagSource({
      a: { variants: { x: 'x', y: 'y' }, defaultVariant: 'x' },
      b: { variants: { x: 'x' }, defaultVariant: 'x' },
    });
    const { stop, httpPort, managementPort } = await serve(source);
    const received = rawClient(httpPort).events();
    await until(() => received.length === 1, 'provider_ready');
    expect(received[0]).toEqual({ type: 'provider_ready' });
    source.setValue('a', 'z');
    await until(() => received.length === 2, 'a configuration_change');
    expect(received[1]).toEqual({
      type: 'configuration_change',
      data: { flags: { a: { type: 'update' } } },
    });
    const delivery = (await (
      await fetch(`http://127.0.0.1:${managementPort}/admin/delivery?version=0`)
    ).json()) as { transports: Record<string, unknown> };
    expect(delivery.transports['grpc-events']).toEqual({ streams: 1, sent: 1 });
    source.remove('b');
    await until(() => received.length === 3, 'a deletion');
    expect(received[2]?.data).toEqual({ flags: { b: { type: 'delete' } } });
    await stop(); // ends the stream: the client sees UNAVAILABLE and reconnects elsewhere
  });
});

describe('the published @openfeature/flagd-provider in RPC mode against rampflag serve', () => {
  const contexts = INTEROP_CONTEXTS as EvaluationContext[];
  const details = detailsBySample;
  let domains = 0;
  async function rpcClient(port: number, cache: 'disabled' | 'lru') {
    const provider = new PublishedProvider({
      resolverType: 'rpc',
      host: '127.0.0.1',
      port,
      cache,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 100,
    });
    const domain = `rpc-${++domains}`;
    await OpenFeature.setProviderAndWait(domain, provider);
    stops.push(() => provider.onClose());
    return OpenFeature.getClient(domain);
  }

  it.runIf(testbedDir !== undefined).each(['disabled', 'lru'] as const)(
    'resolves the testbed flags as rampflag (flagd) does, cache %s',
    async (cache) => {
      const testkit = JSON.parse(
        readFileSync(join(testbedDir as string, 'evaluator/flags/testkit-flags.json'), 'utf8'),
      );
      const source = new InMemoryFlagSource(testkit.flags, { evaluators: testkit.$evaluators });
      const { httpPort } = await serve(source);
      const theirs = await rpcClient(httpPort, cache);
      const ours = await rpcReference(httpPort);
      let compared = 0;
      let errors = 0;
      const mismatches: string[] = [];
      const cached = new Set<string>();
      for (const [key, flag] of Object.entries(
        testkit.flags as Record<string, { variants: Record<string, unknown> }>,
      )) {
        const sample = Object.values(flag.variants)[0];
        for (const context of contexts) {
          // twice: with the cache on, a STATIC flag's later answers are CACHED
          for (const round of [0, 1]) {
            const got = await details(theirs, key, sample, context);
            const want = await ours(key, sample, context);
            // the provider caches a STATIC result by flag key alone, whatever the context
            const reason =
              cache === 'lru' && cached.has(key) && want.reason === 'STATIC'
                ? 'CACHED'
                : want.reason;
            if (want.reason === 'STATIC') cached.add(key);
            if (got.errorCode !== undefined) errors++;
            if (
              JSON.stringify([got.value, got.variant, got.reason, got.errorCode]) !==
              JSON.stringify([want.value, want.variant, reason, want.errorCode])
            )
              mismatches.push(
                `${key} ${contexts.indexOf(context)} ${round}: ${JSON.stringify(got)}`,
              );
            compared++;
          }
        }
      }
      console.log(
        `rpc interop (cache ${cache}): ${compared} evaluations of ${Object.keys(testkit.flags).length} testbed flags compared, ${errors} errors as expected; differing: ${JSON.stringify(mismatches)}`,
      );
      expect(compared).toBeGreaterThan(300);
      expect(mismatches).toEqual([]);
    },
  );

  it('a change reaches the RPC client through EventStream and flushes its cache', async () => {
    const source = new InMemoryFlagSource({
      banner: { variants: { a: 'hello', b: 'bonjour' }, defaultVariant: 'a' },
    });
    const { httpPort } = await serve(source);
    const client = await rpcClient(httpPort, 'lru');
    const changed: string[][] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (d) =>
      changed.push(d?.flagsChanged ?? []),
    );
    expect(await client.getStringDetails('banner', '')).toMatchObject({
      value: 'hello',
      reason: 'STATIC',
    });
    expect(await client.getStringDetails('banner', '')).toMatchObject({
      value: 'hello',
      reason: 'CACHED',
    });
    source.setValue('banner', 'hej');
    await until(() => changed.length > 0, 'CONFIGURATION_CHANGED');
    expect(changed[0]).toEqual(['banner']);
    expect(await client.getStringDetails('banner', '')).toMatchObject({
      value: 'hej',
      reason: 'STATIC',
    });
  });
});

/**
 * What flagd answers, as a flagd RPC provider reports it: rampflag's evaluator through the Connect
 * JSON API (the reference the gRPC service must equal), mapped as the published provider maps
 * flagd's answers (a DEFAULT or DISABLED result without a variant gives the caller's default).
 */
async function rpcReference(port: number) {
  const kindOf = (value: unknown) =>
    typeof value === 'boolean'
      ? 'Boolean'
      : typeof value === 'number'
        ? 'Float'
        : typeof value === 'string'
          ? 'String'
          : 'Object';
  const codes: Record<string, string> = {
    not_found: 'FLAG_NOT_FOUND',
    invalid_argument: 'TYPE_MISMATCH',
    data_loss: 'PARSE_ERROR',
    unknown: 'GENERAL',
  };
  return async (key: string, sample: unknown, context: EvaluationContext) => {
    const fallback = typeof sample === 'object' ? {} : sample;
    const res = await fetch(
      `http://127.0.0.1:${port}/flagd.evaluation.v2.Service/Resolve${kindOf(sample)}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ flagKey: key, context }),
      },
    );
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok)
      return {
        value: fallback,
        variant: undefined,
        reason: 'ERROR',
        errorCode: codes[body['code'] as string],
      };
    const noVariant = body['variant'] === undefined;
    return {
      value: noVariant ? fallback : body['value'],
      variant: noVariant ? undefined : body['variant'],
      reason: body['reason'],
      errorCode: undefined,
    };
  };
}
