import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverOnFreePorts, shopFlags } from '../support/test-server.js';

const source = shopFlags();
const server = serverOnFreePorts({ source });
let base = '';

beforeAll(async () => {
  const { ofrepPort } = await server.start();
  base = `http://127.0.0.1:${ofrepPort}`;
});
afterAll(() => server.stop());

async function post(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    etag: res.headers.get('etag'),
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

describe('OFREP on the OFREP port', () => {
  it('evaluates one flag with the request context', async () => {
    const r = await post('/ofrep/v1/evaluate/flags/checkout', {
      context: { targetingKey: 'u1', ring: 'internal' },
    });
    expect(r).toMatchObject({ status: 200 });
    expect(r.body).toEqual({
      key: 'checkout',
      reason: 'TARGETING_MATCH',
      variant: 'on',
      value: true,
      metadata: { flagSetId: 'shop', owner: 'payments' },
    });
  });

  it.each([
    [
      'codeDefault',
      200,
      { key: 'codeDefault', reason: 'DEFAULT', metadata: { flagSetId: 'shop' } },
    ],
    ['retired', 200, { key: 'retired', reason: 'DISABLED', metadata: { flagSetId: 'shop' } }],
    ['missing', 404, { key: 'missing', errorCode: 'FLAG_NOT_FOUND' }],
    ['broken', 400, { key: 'broken', errorCode: 'PARSE_ERROR' }],
  ])('answers %s with %d as flagd does', async (key, status, body) => {
    const r = await post(`/ofrep/v1/evaluate/flags/${key}`, { context: {} });
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject(body);
    expect(r.body).not.toHaveProperty('value');
  });

  it.each([
    ['an undecodable body', '{"context":', 400, 'INVALID_CONTEXT'],
    ['a context that is not an object', { context: [1] }, 400, 'INVALID_CONTEXT'],
    ['an oversized body', { context: { big: 'x'.repeat(1024 * 1024) } }, 413, 'GENERAL'],
  ])('refuses %s', async (_what, body, status, errorCode) => {
    const r = await post('/ofrep/v1/evaluate/flags/checkout', body);
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ errorCode });
  });

  it('accepts an empty body as an empty context', async () => {
    expect((await post('/ofrep/v1/evaluate/flags/checkout')).body).toMatchObject({
      value: false,
      reason: 'DEFAULT',
    });
  });

  it('evaluates every flag in bulk, with an ETag, and answers 304 while nothing changed', async () => {
    const context = { context: { targetingKey: 'u1', ring: 'internal' } };
    const first = await post('/ofrep/v1/evaluate/flags', context);
    expect(first.status).toBe(200);
    const flags = first.body?.['flags'] as { key: string }[];
    expect(flags.map((f) => f.key).sort()).toEqual([
      'broken',
      'checkout',
      'codeDefault',
      'limit',
      'retired',
    ]);
    expect(first.body?.['eventStreams']).toEqual([
      { type: 'sse', endpoint: { requestUri: '/ofrep/v1/events' } },
    ]);
    expect(first.etag).toMatch(/^"[\w-]+"$/);
    const again = await post('/ofrep/v1/evaluate/flags', context, {
      'If-None-Match': first.etag as string,
    });
    expect(again).toMatchObject({ status: 304, body: undefined });
    const otherContext = await post(
      '/ofrep/v1/evaluate/flags',
      { context: { ring: 'public' } },
      { 'If-None-Match': first.etag as string },
    );
    expect(otherContext.status).toBe(200);
    source.setValue('fresh', 1);
    const changed = await post('/ofrep/v1/evaluate/flags', context, {
      'If-None-Match': first.etag as string,
    });
    expect(changed.status).toBe(200);
    expect(changed.etag).not.toBe(first.etag);
    source.remove('fresh');
  });

  it('announces a change on the event stream, for the provider to re-fetch', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/ofrep/v1/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the comment sent on connect
    source.setValue('announced', true);
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe(
      'event: message\ndata: {"type":"refetchEvaluation"}\n\n',
    );
    controller.abort();
    source.remove('announced');
  });

  it('honours the Flagd-Selector header, and refuses a bad one', async () => {
    const none = await post(
      '/ofrep/v1/evaluate/flags/checkout',
      {},
      { 'Flagd-Selector': 'flagSetId=blog' },
    );
    expect(none.status).toBe(404);
    const bad = await post(
      '/ofrep/v1/evaluate/flags/checkout',
      {},
      { 'Flagd-Selector': 'team=web' },
    );
    expect(bad).toMatchObject({ status: 400, body: { errorCode: 'GENERAL' } });
  });

  it('answers a CORS preflight for browser providers', async () => {
    const res = await fetch(`${base}/ofrep/v1/evaluate/flags`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/If-None-Match/);
  });
});
