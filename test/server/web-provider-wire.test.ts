import { readFileSync } from 'node:fs';
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@openfeature/core';
import { describe, expect, it } from 'vitest';
import { InMemoryFlagSource } from 'rampflag';
import type { FlagServerOptions } from 'rampflag/server';
import {
  decodeEventMessage,
  decodeResolveAllResponse,
  decodeResolveResponse,
  encodeResolveAllRequest,
  encodeResolveRequest,
} from '../../src/grpc/evaluation-wire.js';
import { JSON_EVENTS } from '../../src/server/event-changes.js';
import type { GrpcServerStream } from '../../src/server/grpc-evaluation.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { ServedFlags } from '../../src/server/served-flags.js';
import { parseSelector } from '../../src/server/selector.js';
import { Subscribers } from '../../src/server/subscribers.js';
import { connectStream, envelope, splitEnvelopes } from '../support/connect-client.js';
import { until } from '../support/provider-events.js';
import { rawRequest } from '../support/raw-http.js';
import { stopsAfterEach } from '../support/scratch.js';
import { serveStopping } from '../support/test-server.js';

const stops = stopsAfterEach();

const EVENTS = '/flagd.evaluation.v1.Service/EventStream';

async function serve(options: Partial<FlagServerOptions> = {}) {
  const served = await serveStopping(stops, options);
  const metric = async (transport: string) => {
    const text = await (await fetch(`http://127.0.0.1:${served.managementPort}/metrics`)).text();
    const line = new RegExp(`rampflag_sync_streams\\{transport="${transport}"\\} (-?\\d+)`);
    return Number(line.exec(text)?.[1] ?? 0);
  };
  return { ...served, metric };
}

/** Waits until the gauge of Connect event streams is `count`; fails naming `what` after 5 s. */
async function metricReaches(
  metric: (transport: string) => Promise<number>,
  count: number,
  what: string,
) {
  const end = Date.now() + 5000;
  while ((await metric('connect-events')) !== count) {
    if (Date.now() > end) throw new Error(`${what} did not happen within 5000 ms`);
    await sleep(10);
  }
}

const json = (data: Buffer) => JSON.parse(data.toString()) as unknown;

describe('EventStream in the Connect streaming protocol', () => {
  it('sends provider_ready, then configuration_change with the changed keys, then ends with unavailable on stop', async () => {
    const { source, stop, url, metric, managementPort } = await serve();
    const call = await connectStream(url + EVENTS);
    stops.push(call.cancel);
    expect(call.res.status).toBe(200);
    expect(call.res.headers.get('content-type')).toBe('application/connect+json');
    await until(() => call.messages.length === 1, 'provider_ready');
    expect(call.messages[0]?.flags).toBe(0);
    expect(json(call.messages[0]?.data as Buffer)).toEqual({ type: 'provider_ready' });
    source.setValue('limit', 20);
    await until(() => call.messages.length === 2, 'configuration_change');
    expect(json(call.messages[1]?.data as Buffer)).toEqual({
      type: 'configuration_change',
      data: { flags: { limit: { type: 'update' } } },
    });
    source.remove('retired');
    await until(() => call.messages.length === 3, 'a deletion');
    expect(json(call.messages[2]?.data as Buffer)).toMatchObject({
      data: { flags: { retired: { type: 'delete' } } },
    });
    const delivery = (await (
      await fetch(`http://127.0.0.1:${managementPort}/admin/delivery?version=0`)
    ).json()) as { transports: Record<string, unknown> };
    expect(delivery.transports['connect-events']).toEqual({ streams: 1, sent: 1 });
    expect(await metric('connect-events')).toBe(1);
    await stop();
    expect(await call.ended).toEqual({
      error: { code: 'unavailable', message: 'the flag server is shutting down' },
    });
  });

  it('speaks application/connect+proto too', async () => {
    const { source, url } = await serve();
    const call = await connectStream(url + '/flagd.evaluation.v2.Service/EventStream', {
      contentType: 'application/connect+proto',
      body: envelope(new Uint8Array(0)),
    });
    stops.push(call.cancel);
    expect(call.res.headers.get('content-type')).toBe('application/connect+proto');
    await until(() => call.messages.length === 1, 'provider_ready');
    expect(decodeEventMessage(call.messages[0]?.data as Buffer)).toEqual({
      type: 'provider_ready',
    });
    source.setValue('limit', 20);
    await until(() => call.messages.length === 2, 'configuration_change');
    expect(decodeEventMessage(call.messages[1]?.data as Buffer)).toEqual({
      type: 'configuration_change',
      data: { flags: { limit: { type: 'update' } } },
    });
  });

  it('sends only the changes of its selection (Flagd-Selector)', async () => {
    const source = new InMemoryFlagSource({
      a: { variants: { v: 1 }, defaultVariant: 'v', metadata: { flagSetId: 'one' } },
      b: { variants: { v: 1 }, defaultVariant: 'v', metadata: { flagSetId: 'two' } },
    });
    const { url } = await serve({ source });
    const call = await connectStream(url + EVENTS, {
      headers: { 'flagd-selector': 'flagSetId=two' },
    });
    stops.push(call.cancel);
    await until(() => call.messages.length === 1, 'provider_ready');
    source.update('a', { variants: { v: 2 } });
    source.update('b', { variants: { v: 2 } });
    await until(() => call.messages.length === 2, 'configuration_change');
    expect(json(call.messages[1]?.data as Buffer)).toEqual({
      type: 'configuration_change',
      data: { flags: { b: { type: 'update' } } },
    });
  });

  it('counts a stream out when its client goes away', async () => {
    const { url, metric } = await serve();
    const call = await connectStream(url + EVENTS);
    await until(() => call.messages.length === 1, 'provider_ready');
    expect(await metric('connect-events')).toBe(1);
    call.cancel();
    await metricReaches(metric, 0, 'the stream to be counted out');
  });

  it('writes keep_alive on every open stream, enveloped as the stream is encoded', async () => {
    const flags = new ServedFlags(['mem'], undefined);
    flags.apply('mem', { flags: {} });
    const silent: Logger = { error() {}, warn() {}, info() {}, debug() {} };
    const subscribers = new Subscribers(flags, new ServerMetrics(), silent, 1024 * 1024, 20);
    stops.push(() => subscribers.endAll());
    const written: string[] = [];
    const call: GrpcServerStream = {
      write: (message, done) => {
        written.push(Buffer.from(message).toString());
        done();
      },
      end: () => undefined,
      reset: () => undefined,
      onClose: () => undefined,
    };
    subscribers.addGrpcEvents(call, parseSelector(undefined), 'connect-events', JSON_EVENTS);
    await until(() => written.length >= 3, 'two keep_alive messages');
    expect(written.slice(0, 3)).toEqual([
      '{"type":"provider_ready"}',
      '{"type":"keep_alive"}',
      '{"type":"keep_alive"}',
    ]);
  });
});

describe('a bad EventStream request', () => {
  const cases: [string, Record<string, string>, Buffer, string, RegExp][] = [
    ['a bad selector', { 'flagd-selector': 'nope=x' }, envelope('{}'), 'invalid_argument', /nope/],
    ['no envelope', {}, Buffer.from('{}'), 'invalid_argument', /one enveloped/],
    [
      'a length that does not match',
      {},
      Buffer.concat([envelope('{}'), envelope('{}')]),
      'invalid_argument',
      /exactly one/,
    ],
    ['a message that is not JSON', {}, envelope('{nope'), 'invalid_argument', /not a JSON object/],
    ['a JSON array', {}, envelope('[]'), 'invalid_argument', /not a JSON object/],
    ['a compressed message', {}, envelope('{}', 1), 'unimplemented', /compressed/],
    [
      'a gzip content encoding',
      { 'connect-content-encoding': 'gzip' },
      envelope('{}'),
      'unimplemented',
      /gzip/,
    ],
    [
      'an oversized message',
      {},
      envelope(`{"pad":"${'x'.repeat(70 * 1024)}"}`),
      'resource_exhausted',
      /over 65536 bytes/,
    ],
  ];
  it.each(cases)(
    'is refused with a Connect end-of-stream error: %s',
    async (_, headers, body, code, message) => {
      const { url, metric } = await serve();
      const call = await connectStream(url + EVENTS, { headers, body });
      expect(call.res.status).toBe(200);
      const ended = (await call.ended) as { error: { code: string; message: string } };
      expect(ended.error.code).toBe(code);
      expect(ended.error.message).toMatch(message);
      expect(call.messages).toEqual([]);
      expect(await metric('connect-events')).toBe(0);
    },
  );

  it('is a 415 with a Connect error when it is not application/connect+json or +proto', async () => {
    const { url } = await serve();
    const res = await fetch(url + EVENTS, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 'unknown', message: /connect\+json/ });
  });

  it('is a 405 for a method other than POST', async () => {
    const { url } = await serve();
    const res = await fetch(url + EVENTS);
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual({ code: 'unimplemented', message: 'use POST' });
  });
});

describe('Connect unary in application/proto (connect-web with useBinaryFormat)', () => {
  const post = (url: string, body: Uint8Array, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/proto', 'connect-protocol-version': '1', ...headers },
      body,
    });

  it('answers ResolveAll and Resolve<T> in protobuf, as the JSON API does', async () => {
    const { url } = await serve();
    const all = await post(
      url + '/flagd.evaluation.v1.Service/ResolveAll',
      encodeResolveAllRequest({ ring: 'internal' }),
    );
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/proto');
    const decoded = decodeResolveAllResponse(new Uint8Array(await all.arrayBuffer()));
    expect(decoded.flags['checkout']).toMatchObject({
      reason: 'TARGETING_MATCH',
      variant: 'on',
      value: true,
    });
    expect(decoded.flags['limit']).toMatchObject({ value: 10, variant: 'ten' });
    expect(Object.keys(decoded.flags).sort()).toEqual(['checkout', 'limit']);
    const one = await post(
      url + '/flagd.evaluation.v2.Service/ResolveFloat',
      encodeResolveRequest({ flagKey: 'limit', context: {} }),
    );
    expect(decodeResolveResponse('Float', new Uint8Array(await one.arrayBuffer()))).toMatchObject({
      value: 10,
      variant: 'ten',
      reason: 'STATIC',
    });
  });

  it.each([
    [
      'an unknown flag',
      'ResolveBoolean',
      encodeResolveRequest({ flagKey: 'nope', context: {} }),
      {},
      404,
      'not_found',
    ],
    [
      'bytes that are not protobuf',
      'ResolveAll',
      new Uint8Array([0xff, 0xff, 0xff]),
      {},
      400,
      'invalid_argument',
    ],
    [
      'an oversized message',
      'ResolveAll',
      new Uint8Array(70 * 1024),
      {},
      429,
      'resource_exhausted',
    ],
    [
      'a bad selector',
      'ResolveAll',
      new Uint8Array(0),
      { 'flagd-selector': 'nope=x' },
      400,
      'invalid_argument',
    ],
    ['gzip', 'ResolveAll', new Uint8Array(0), { 'content-encoding': 'gzip' }, 501, 'unimplemented'],
  ] as const)(
    'refuses %s with a Connect JSON error',
    async (_, method, body, headers, status, code) => {
      const { url } = await serve();
      const res = await post(`${url}/flagd.evaluation.v1.Service/${method}`, body, headers);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toMatchObject({ code });
    },
  );
});

describe('CORS on the evaluation port', () => {
  it('answers a preflight from any origin by default, as flagd does', async () => {
    const { httpPort } = await serve();
    const res = await rawRequest(httpPort, {
      method: 'OPTIONS',
      path: EVENTS,
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,connect-protocol-version',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, GET, OPTIONS',
      'access-control-allow-headers': 'content-type,connect-protocol-version',
    });
  });

  it('sends Access-Control-Allow-Origin on ResolveAll and on the stream', async () => {
    const { url } = await serve();
    const res = await fetch(url + '/flagd.evaluation.v1.Service/ResolveAll', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://app.example' },
      body: '{}',
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Grpc-Status/);
    const call = await connectStream(url + EVENTS, { headers: { origin: 'https://app.example' } });
    stops.push(call.cancel);
    expect(call.res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('allows only the origins listed in corsOrigins', async () => {
    const { httpPort, url } = await serve({ corsOrigins: ['https://app.example'] });
    const preflight = (origin: string) =>
      rawRequest(httpPort, {
        method: 'OPTIONS',
        path: EVENTS,
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
    const allowed = await preflight('https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(allowed.headers['vary']).toMatch(/Origin/);
    expect((await preflight('https://evil.example')).status).toBe(403);
    const res = await fetch(url + '/flagd.evaluation.v1.Service/ResolveAll', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: '{}',
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('a Connect EventStream whose client stops reading', () => {
  it('is closed once over maxStreamBufferBytes, while a reading client keeps its stream', async () => {
    const warnings: string[] = [];
    const logger: Logger = {
      error: () => undefined,
      warn: (message: string) => void warnings.push(message),
      info: () => undefined,
      debug: () => undefined,
    };
    // many flags with long keys: every change of them all is a big configuration_change
    const keys = Array.from({ length: 2000 }, (_, i) => `${'k'.repeat(100)}-${i}`);
    const flagsAt = (n: number) =>
      Object.fromEntries(keys.map((key) => [key, { variants: { v: n }, defaultVariant: 'v' }]));
    const source = new InMemoryFlagSource(flagsAt(0));
    const { url, httpPort, metric } = await serve({
      source,
      logger,
      limits: { maxStreamBufferBytes: 256 * 1024 },
    });
    const reader = await connectStream(url + EVENTS);
    stops.push(reader.cancel);
    const body = envelope('{}');
    const stuck: Socket = connect(httpPort, '127.0.0.1');
    stuck.on('error', () => undefined);
    stops.push(() => void stuck.destroy());
    stuck.write(
      `POST ${EVENTS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/connect+json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    stuck.write(body);
    stuck.pause(); // never takes a byte off the socket
    await metricReaches(metric, 2, 'both streams to open');
    for (let n = 1; n <= 100 && (await metric('connect-events')) === 2; n++) {
      source.replace(flagsAt(n));
      await until(() => reader.messages.length === n + 1, `change ${n} to reach the reader`);
    }
    expect(await metric('connect-events')).toBe(1); // the stuck stream alone is gone
    expect(warnings.join('\n')).toMatch(
      /closing a connect-events stream: the client has not read \d+ bytes, over the limit of 262144/,
    );
    const seen = reader.messages.length;
    source.replace(flagsAt(1000)); // the reader still gets every change
    await until(() => reader.messages.length === seen + 1, 'one more change');
    expect(json(reader.messages.at(-1)?.data as Buffer)).toMatchObject({
      type: 'configuration_change',
    });
  }, 60_000);
});

describe('Connect over HTTP/2 (browsers negotiate h2 on a TLS port)', () => {
  const tlsDir = join('test', 'fixtures', 'tls');
  const tls = {
    cert: readFileSync(join(tlsDir, 'server-cert.pem')),
    key: readFileSync(join(tlsDir, 'server-key.pem')),
  };

  /** One HTTP/2 request: the response headers, then its body as it comes. */
  function h2Request(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer) {
    const stream = session.request({ ':method': 'POST', ...headers });
    stream.end(body);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const response = new Promise<Record<string, unknown>>((done) => stream.once('response', done));
    const ended = new Promise<void>((done) => stream.once('close', () => done()));
    return { stream, response, ended, body: () => Buffer.concat(chunks) };
  }

  it.each([
    ['h2c (prior knowledge)', false],
    ['TLS with ALPN h2', true],
  ] as const)('serves ResolveAll, the EventStream and CORS on %s', async (_, secure) => {
    const { source, httpPort } = await serve(secure ? { tls } : {});
    const session = connectHttp2(
      `${secure ? 'https' : 'http'}://localhost:${httpPort}`,
      secure ? { ca: readFileSync(join(tlsDir, 'ca-cert.pem')) } : {},
    );
    session.on('error', () => undefined);
    stops.push(() => void session.destroy());
    const all = h2Request(
      session,
      {
        ':path': '/flagd.evaluation.v1.Service/ResolveAll',
        'content-type': 'application/json',
        origin: 'https://app.example',
      },
      Buffer.from('{"context":{"ring":"internal"}}'),
    );
    expect(await all.response).toMatchObject({
      ':status': 200,
      'content-type': 'application/json',
      'access-control-allow-origin': '*',
    });
    await all.ended;
    expect(json(all.body())).toMatchObject({
      flags: { checkout: { boolValue: true, variant: 'on', reason: 'TARGETING_MATCH' } },
    });
    const events = h2Request(
      session,
      { ':path': EVENTS, 'content-type': 'application/connect+json' },
      envelope('{}'),
    );
    expect(await events.response).toMatchObject({
      ':status': 200,
      'content-type': 'application/connect+json',
    });
    await until(() => events.body().length > 0, 'provider_ready');
    source.setValue('limit', 20);
    await until(() => splitEnvelopes(events.body()).envelopes.length === 2, 'the change');
    const [ready, change] = splitEnvelopes(events.body()).envelopes;
    expect(json(ready?.data as Buffer)).toEqual({ type: 'provider_ready' });
    expect(json(change?.data as Buffer)).toMatchObject({ type: 'configuration_change' });
    const preflight = session.request({
      ':method': 'OPTIONS',
      ':path': EVENTS,
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
    });
    preflight.end();
    expect(await new Promise((done) => preflight.once('response', done))).toMatchObject({
      ':status': 204,
      'access-control-allow-origin': '*',
    });
    const sse = session.request({ ':method': 'GET', ':path': '/sync/sse' });
    sse.end();
    const chunks: Buffer[] = [];
    sse.on('data', (chunk: Buffer) => chunks.push(chunk));
    expect(await new Promise((done) => sse.once('response', done))).toMatchObject({
      ':status': 200,
      'content-type': 'text/event-stream',
    });
    await until(() => Buffer.concat(chunks).includes('event: configuration'), 'an SSE snapshot');
    expect(Buffer.concat(chunks).toString()).toContain('limit');
  });
});
