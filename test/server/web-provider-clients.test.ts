import { Struct } from '@bufbuild/protobuf';
import { Code, ConnectError, createPromiseClient, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-web';
import { describe, expect, it } from 'vitest';
import {
  decodeResolveAllResponse,
  encodeResolveAllRequest,
} from '../../src/grpc/evaluation-wire.js';
import { envelope, splitEnvelopes } from '../support/connect-client.js';
import { EvaluationService } from '../support/flagd-evaluation-service.js';
import { until } from '../support/provider-events.js';
import { stopsAfterEach } from '../support/scratch.js';
import { serveStopping } from '../support/test-server.js';

const stops = stopsAfterEach();

async function serve() {
  const served = await serveStopping(stops);
  return { ...served, baseUrl: served.url };
}

const transports: [string, (baseUrl: string) => Transport, string][] = [
  ['Connect JSON', (baseUrl) => createConnectTransport({ baseUrl }), 'connect-events'],
  [
    'Connect binary',
    (baseUrl) => createConnectTransport({ baseUrl, useBinaryFormat: true }),
    'connect-events',
  ],
  ['gRPC-Web', (baseUrl) => createGrpcWebTransport({ baseUrl }), 'grpc-web-events'],
];

describe.each(transports)('connect-web clients: %s', (_, transport, counted) => {
  it('ResolveAll, then an EventStream: provider_ready, a change, unavailable on stop', async () => {
    const { source, stop, baseUrl, managementPort } = await serve();
    const client = createPromiseClient(EvaluationService, transport(baseUrl));
    const all = await client.resolveAll({ context: Struct.fromJson({ ring: 'internal' }) });
    expect(all.flags['checkout']).toMatchObject({
      reason: 'TARGETING_MATCH',
      variant: 'on',
      value: { case: 'boolValue', value: true },
    });
    expect(all.flags['limit']?.value).toEqual({ case: 'doubleValue', value: 10 });
    expect(Object.keys(all.flags).sort()).toEqual(['checkout', 'limit']);
    const events: { type: string; data?: unknown }[] = [];
    let failure: unknown;
    const reading = (async () => {
      try {
        for await (const event of client.eventStream({}))
          events.push({ type: event.type, data: event.data?.toJson() });
      } catch (error) {
        failure = error;
      }
    })();
    await until(() => events.length === 1, 'provider_ready');
    expect(events[0]).toEqual({ type: 'provider_ready' });
    const delivery = (await (
      await fetch(`http://127.0.0.1:${managementPort}/admin/delivery?version=0`)
    ).json()) as { transports: Record<string, unknown> };
    expect(delivery.transports[counted]).toEqual({ streams: 1, sent: 1 });
    source.setValue('limit', 20);
    await until(() => events.length === 2, 'configuration_change');
    expect(events[1]).toEqual({
      type: 'configuration_change',
      data: { flags: { limit: { type: 'update' } } },
    });
    await stop();
    await reading;
    expect(failure).toBeInstanceOf(ConnectError);
    expect((failure as ConnectError).code).toBe(Code.Unavailable);
  });

  it('a bad selector fails the call with invalid_argument', async () => {
    const { baseUrl } = await serve();
    const client = createPromiseClient(EvaluationService, transport(baseUrl));
    const headers = { 'flagd-selector': 'nope=x' };
    await expect(client.resolveAll({}, { headers })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    const stream = client.eventStream({}, { headers });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
  });
});

describe('gRPC-Web on the wire', () => {
  const post = (url: string, type: string, body: Buffer | string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': type, 'x-grpc-web': '1' }, body });

  it('speaks the base64 text form (application/grpc-web-text)', async () => {
    const { baseUrl } = await serve();
    const body = envelope(encodeResolveAllRequest({})).toString('base64');
    const res = await post(
      `${baseUrl}/flagd.evaluation.v1.Service/ResolveAll`,
      'application/grpc-web-text',
      body,
    );
    expect(res.headers.get('content-type')).toBe('application/grpc-web-text+proto');
    // each frame is base64 on its own: decode them one by one
    const text = await res.text();
    const bytes = Buffer.concat(
      (text.match(/[^=]+=*/g) ?? []).map((chunk) => Buffer.from(chunk, 'base64')),
    );
    const [message, trailers] = splitEnvelopes(bytes).envelopes;
    expect(Object.keys(decodeResolveAllResponse(message?.data as Buffer).flags).sort()).toEqual([
      'checkout',
      'limit',
    ]);
    expect(trailers?.flags).toBe(0x80);
    expect(trailers?.data.toString()).toBe('grpc-status: 0\r\n');
  });

  it.each([['!!!!@@@@'], ['AAA'], ['AA AA===']])(
    'refuses a text body %j that is not base64, saying so',
    async (body) => {
      const { baseUrl } = await serve();
      const res = await post(
        `${baseUrl}/flagd.evaluation.v1.Service/ResolveBoolean`,
        'application/grpc-web-text',
        body,
      );
      const trailers = Buffer.from(await res.text(), 'base64')
        .subarray(5)
        .toString();
      expect(trailers).toContain(`grpc-status: ${3}`); // INVALID_ARGUMENT
      expect(decodeURIComponent(trailers)).toContain('not base64');
    },
  );

  it.each([
    ['an unknown method', '/flagd.evaluation.v1.Service/Nope', envelope(''), 12, /unknown method/],
    [
      'an oversized message',
      '/flagd.evaluation.v1.Service/ResolveAll',
      envelope(Buffer.alloc(70 * 1024)),
      8,
      /over 65536 bytes/,
    ],
    [
      'a compressed message',
      '/flagd.evaluation.v1.Service/ResolveAll',
      envelope('', 1),
      12,
      /compressed/,
    ],
    [
      'bytes that are not protobuf',
      '/flagd.evaluation.v1.Service/ResolveAll',
      envelope(Buffer.from([0xff, 0xff, 0xff])),
      3,
      /./,
    ],
  ] as const)(
    'ends %s with a status in the trailers frame',
    async (_, path, body, code, message) => {
      const { baseUrl } = await serve();
      const res = await post(baseUrl + path, 'application/grpc-web+proto', body);
      expect(res.status).toBe(200);
      const frames = splitEnvelopes(Buffer.from(await res.arrayBuffer())).envelopes;
      expect(frames).toHaveLength(1);
      expect(frames[0]?.flags).toBe(0x80);
      const trailer = frames[0]?.data.toString() ?? '';
      expect(trailer).toContain(`grpc-status: ${code}\r\n`);
      expect(decodeURIComponent(/grpc-message: (.*)\r\n/.exec(trailer)?.[1] ?? '')).toMatch(
        message,
      );
    },
  );
});
