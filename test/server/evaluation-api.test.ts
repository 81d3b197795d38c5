import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverOnFreePorts, shopFlags } from '../support/test-server.js';

const server = serverOnFreePorts({ source: shopFlags() });
let base = '';

beforeAll(async () => {
  const { httpPort } = await server.start();
  base = `http://127.0.0.1:${httpPort}`;
});
afterAll(() => server.stop());

async function call(path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("FlagServer's evaluation API (Connect JSON, as flagd serves it)", () => {
  it('resolves a flag as curl against flagd would', async () => {
    const r = await call('/flagd.evaluation.v1.Service/ResolveBoolean', {
      flagKey: 'checkout',
      context: { targetingKey: 'emp-42', ring: 'internal' },
    });
    expect(r).toEqual({
      status: 200,
      body: {
        value: true,
        reason: 'TARGETING_MATCH',
        variant: 'on',
        metadata: { flagSetId: 'shop', owner: 'payments' },
      },
    });
  });

  it('answers int64 as a JSON string, as flagd does', async () => {
    const r = await call('/flagd.evaluation.v1.Service/ResolveInt', { flagKey: 'limit' });
    expect(r.body).toMatchObject({ value: '10', variant: 'ten', reason: 'STATIC' });
    expect(
      (await call('/flagd.evaluation.v1.Service/ResolveFloat', { flagKey: 'limit' })).body['value'],
    ).toBe(10);
  });

  it.each([
    ['ResolveString', 'ghost', 404, 'not_found'],
    ['ResolveString', 'checkout', 400, 'invalid_argument'],
    ['ResolveString', 'broken', 500, 'data_loss'],
  ])('%s of %s is HTTP %d with Connect code %s', async (method, flagKey, status, code) => {
    const r = await call(`/flagd.evaluation.v1.Service/${method}`, { flagKey });
    expect([r.status, r.body['code']]).toEqual([status, code]);
    expect(String(r.body['message'])).toMatch(/\S/);
  });

  it('answers "no value" with v2, and NOT_FOUND with v1 (whose proto cannot say it)', async () => {
    expect(
      (await call('/flagd.evaluation.v2.Service/ResolveBoolean', { flagKey: 'retired' })).body,
    ).toEqual({
      reason: 'DISABLED',
      metadata: { flagSetId: 'shop' },
    });
    expect(
      (await call('/flagd.evaluation.v2.Service/ResolveString', { flagKey: 'codeDefault' })).body,
    ).toEqual({
      reason: 'DEFAULT',
      metadata: { flagSetId: 'shop' },
    });
    expect(
      (await call('/flagd.evaluation.v1.Service/ResolveBoolean', { flagKey: 'retired' })).status,
    ).toBe(404);
  });

  it('serves the legacy schema.v1 paths and ResolveAll', async () => {
    expect(
      (await call('/schema.v1.Service/ResolveBoolean', { flagKey: 'checkout' })).body,
    ).toMatchObject({ value: false, reason: 'DEFAULT' });
    const all = await call('/flagd.evaluation.v1.Service/ResolveAll', {
      context: { ring: 'internal' },
    });
    expect(all.body).toEqual({
      flags: {
        checkout: {
          reason: 'TARGETING_MATCH',
          variant: 'on',
          boolValue: true,
          metadata: { flagSetId: 'shop', owner: 'payments' },
        },
        limit: {
          reason: 'STATIC',
          variant: 'ten',
          doubleValue: 10,
          metadata: { flagSetId: 'shop' },
        },
      },
      metadata: { flagSetId: 'shop' },
    });
    expect((await call('/flagd.evaluation.v2.Service/ResolveAll', {})).status).toBe(404);
  });

  it('refuses malformed and oversized requests, saying why', async () => {
    expect(await call('/flagd.evaluation.v1.Service/ResolveBoolean', '{nope')).toMatchObject({
      status: 400,
      body: { code: 'invalid_argument' },
    });
    expect(
      await call('/flagd.evaluation.v1.Service/ResolveBoolean', { context: {} }),
    ).toMatchObject({ status: 400 });
    const huge = { flagKey: 'checkout', context: { blob: 'x'.repeat(1024 * 1024 + 10) } };
    expect(await call('/flagd.evaluation.v1.Service/ResolveBoolean', huge)).toMatchObject({
      status: 413,
      body: { code: 'resource_exhausted' },
    });
  });
});
