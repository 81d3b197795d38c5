import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { serveOptions } from '../../src/cli/serve.js';
import { decodeResolveResponse, encodeResolveRequest } from '../../src/grpc/evaluation-wire.js';
import { FlagdProvider, InMemoryFlagSource } from '../../src/index.js';
import { contextEnricher } from '../../src/server/context-enrichment.js';
import { serverOnFreePorts } from '../support/test-server.js';

describe('contextEnricher (flagd -X and -H)', () => {
  it('returns the request context untouched when nothing is added', () => {
    const context = { a: 1 };
    expect(contextEnricher()(context, ['X-User', 'u'])).toBe(context);
  });

  it('merges by flagd priority: header over static value over the request', () => {
    const enrich = contextEnricher({
      values: { region: 'eu', email: 'static@x' },
      fromHeaders: { 'X-User-Email': 'email', 'X-Tier': 'tier' },
    });
    expect(enrich({ region: 'us', email: 'body@x', id: 7 }, ['X-User-Email', 'hdr@x'])).toEqual({
      region: 'eu',
      email: 'hdr@x',
      id: 7,
    });
    expect(enrich({ email: 'body@x' }, [])).toEqual({ region: 'eu', email: 'static@x' });
  });

  it("takes a repeated header's first value, as sent (Node's header object joins them)", () => {
    const enrich = contextEnricher({ fromHeaders: { 'x-a': 'a', 'X-B': 'b' } });
    expect(enrich({}, ['X-A', 'one', 'x-b', 'B', 'x-a', 'two'])).toEqual({ a: 'one', b: 'B' });
  });

  it('never lets __proto__ reach a prototype, from the request, a value or a header', () => {
    const enrich = contextEnricher({
      values: JSON.parse('{"__proto__": {"polluted": 1}}'),
      fromHeaders: { 'x-p': '__proto__' },
    });
    const merged = enrich(JSON.parse('{"__proto__": {"admin": true}}'), ['x-p', 'hdr']);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(merged, '__proto__')?.value).toBe('hdr');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((merged as Record<string, unknown>)['admin']).toBeUndefined();
  });
});

describe('FlagServer adds -X and -H context to every evaluation it makes', () => {
  const stops: (() => unknown)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await OpenFeature.close();
  });

  /** A flag whose variant names the region and email it saw, so each answer shows the merge. */
  async function serve() {
    const seen = ['eu|hdr@x', 'eu|body@x', 'eu|', 'us|body@x'];
    const source = new InMemoryFlagSource({
      who: {
        variants: Object.fromEntries(seen.map((v) => [v, v])),
        defaultVariant: 'eu|',
        targeting: { cat: [{ var: 'region' }, '|', { var: 'email' }] },
      },
    });
    const server = serverOnFreePorts({
      source,
      syncContext: { region: 'eu' },
      contextFromHeaders: { 'X-User-Email': 'email' },
    });
    const ports = await server.start();
    stops.push(() => server.stop());
    return ports;
  }

  const body = { flagKey: 'who', context: { region: 'us', email: 'body@x' } };
  const post = (url: string, json: unknown, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(json),
    }).then((res) => res.json() as Promise<Record<string, unknown>>);

  it('over Connect JSON: a header over -X over the request', async () => {
    const { httpPort } = await serve();
    const url = `http://127.0.0.1:${httpPort}/flagd.evaluation.v1.Service/ResolveString`;
    expect(await post(url, body, { 'X-User-Email': 'hdr@x' })).toMatchObject({
      value: 'eu|hdr@x',
    });
    expect(await post(url, body)).toMatchObject({ value: 'eu|body@x' });
    // a header sent twice: its first value, not the two joined
    // (fetch would join them: node:http sends an array as separate header lines)
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-User-Email': ['hdr@x', 'other@x'] },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    expect(JSON.parse(answer)).toMatchObject({ value: 'eu|hdr@x' });
    const all = await post(
      `http://127.0.0.1:${httpPort}/flagd.evaluation.v1.Service/ResolveAll`,
      { context: body.context },
      { 'X-User-Email': 'hdr@x' },
    );
    expect(all).toMatchObject({ flags: { who: { stringValue: 'eu|hdr@x' } } });
  });

  it('over OFREP', async () => {
    const { ofrepPort } = await serve();
    const url = `http://127.0.0.1:${ofrepPort}/ofrep/v1/evaluate/flags/who`;
    expect(await post(url, { context: body.context }, { 'X-User-Email': 'hdr@x' })).toMatchObject({
      value: 'eu|hdr@x',
    });
    expect(await post(url, { context: {} })).toMatchObject({ value: 'eu|' });
  });

  it('over gRPC, a metadata header mapped as -H says', async () => {
    const { httpPort } = await serve();
    const method = {
      path: '/flagd.evaluation.v1.Service/ResolveString',
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: Uint8Array) => Buffer.from(m),
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    };
    const Client = grpc.makeGenericClientConstructor({ ResolveString: method }, 'evaluation');
    const client = new Client(`127.0.0.1:${httpPort}`, grpc.credentials.createInsecure());
    stops.push(() => client.close());
    type Unary = (
      m: Uint8Array,
      md: grpc.Metadata,
      cb: (e: Error | null, r?: Buffer) => void,
    ) => void;
    const resolve = (metadata: grpc.Metadata) =>
      new Promise<unknown>((done, fail) =>
        ((client as unknown as { ResolveString: Unary }).ResolveString as Unary).call(
          client,
          encodeResolveRequest({ flagKey: 'who', context: body.context }),
          metadata,
          (error, response) =>
            error ? fail(error) : done(decodeResolveResponse('String', response as Buffer).value),
        ),
      );
    const withHeader = new grpc.Metadata();
    withHeader.set('x-user-email', 'hdr@x');
    expect(await resolve(withHeader)).toBe('eu|hdr@x');
    expect(await resolve(new grpc.Metadata())).toBe('eu|body@x');
  });

  it('over gRPC, to an RPC provider that knows nothing of it', async () => {
    const { httpPort } = await serve();
    const provider = new FlagdProvider({ resolverType: 'rpc', host: '127.0.0.1', port: httpPort });
    stops.push(() => provider.onClose());
    await OpenFeature.setProviderAndWait('enrichment', provider);
    const client = OpenFeature.getClient('enrichment');
    expect(await client.getStringValue('who', 'x', body.context)).toBe('eu|body@x');
    expect(await client.getStringValue('who', 'x', {})).toBe('eu|');
  });
});

describe('rampflag serve -X and -H', () => {
  it('reads repeated and comma-separated pairs as flagd does', () => {
    const options = serveOptions([
      'flags.json',
      ...['-X', 'a=1,b=x=y', '--context-value', 'c=', '-X', '"d=1,2"'],
      ...['-H', 'X-User-Email=email', '--context-from-header', 'X-Tier=tier'],
    ]);
    expect(options.syncContext).toEqual({ a: '1', b: 'x=y', c: '', d: '1,2' });
    expect(options.contextFromHeaders).toEqual({ 'X-User-Email': 'email', 'X-Tier': 'tier' });
  });

  it('takes keys that name Object.prototype members as plain keys', () => {
    const options = serveOptions(['flags.json', '-X', 'constructor=c', '-X', '__proto__=p']);
    expect(Object.getOwnPropertyDescriptor(options.syncContext, 'constructor')?.value).toBe('c');
    expect(Object.getOwnPropertyDescriptor(options.syncContext, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(options.syncContext)).toBe(Object.prototype);
  });

  it.each([
    [['-X', 'region'], /--context-value: "region" is not key=value/],
    [['-X', 'a=1,=2'], /--context-value: "=2" is not key=value/],
    [['-H', 'X-A'], /--context-from-header: "X-A" is not key=value/],
    [['-X', '"a=1'], /--context-value: ""a=1" has an unclosed quote/],
  ])('refuses %j, naming the option and the pair', (args, message) => {
    expect(() => serveOptions(['flags.json', ...args])).toThrow(message);
  });
});

describe('rampflag serve -C (CORS origins)', () => {
  it('reads repeated and comma-separated origins, as flagd does', () => {
    expect(
      serveOptions(['flags.json', '-C', 'https://a.example, https://b.example', '-C', 'https://c']),
    ).toMatchObject({
      corsOrigins: ['https://a.example', 'https://b.example', 'https://c'],
    });
    expect(serveOptions(['flags.json']).corsOrigins).toBeUndefined();
  });
});
