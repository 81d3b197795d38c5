import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { serverOnFreePorts } from '../support/test-server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileFlagSource, InMemoryFlagSource } from 'rampflag';
import { mergePatch, type FlagServerOptions } from 'rampflag/server';
import { clientFor, until } from '../support/provider-events.js';
import { inProcessProvider } from '../support/sync-flags.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const checkout = {
  state: 'ENABLED' as const,
  variants: { on: true, off: false },
  defaultVariant: 'off',
};

async function serve(options: Partial<FlagServerOptions> = {}) {
  const server = serverOnFreePorts({
    source: new InMemoryFlagSource({ checkout }),
    ...options,
  });
  const ports = await server.start();
  stops.push(() => server.stop());
  const admin = (
    method: string,
    body?: unknown,
    headers: Record<string, string> = {},
    query = '',
  ) =>
    fetch(`http://127.0.0.1:${ports.managementPort}/admin/flags${query}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...headers },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return { ...ports, admin };
}

describe('the admin API', () => {
  it('patches a flag, pushes the change to connected providers, and reports what changed', async () => {
    const { syncPort, admin } = await serve();
    const { client, events } = await clientFor(inProcessProvider(syncPort));
    const res = await admin('PATCH', { flags: { checkout: { defaultVariant: 'on' } } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      source: 'default',
      added: [],
      removed: [],
      changed: ['checkout'],
    });
    await until(() => events.length > 0, 'a change event');
    expect(events[0]?.[1]?.flagsChanged).toEqual(['checkout']);
    expect(await client.getBooleanValue('checkout', false)).toBe(true);
  });

  it('replaces the configuration whole with PUT, and deletes with a null in a PATCH', async () => {
    const { admin } = await serve();
    const put = await admin('PUT', {
      flags: { checkout, banner: { state: 'ENABLED', variants: { a: 'hi' }, defaultVariant: 'a' } },
    });
    expect(await put.json()).toMatchObject({ added: ['banner'], removed: [], changed: [] });
    const patch = await admin('PATCH', { flags: { checkout: null } });
    expect(await patch.json()).toMatchObject({ removed: ['checkout'] });
    const doc = (await (await admin('GET')).json()) as { flags: object };
    expect(Object.keys(doc.flags)).toEqual(['banner']);
  });

  it('refuses a bad update with every issue and its path, and nothing changes', async () => {
    const { admin } = await serve();
    const before = await (await admin('GET')).text();
    const res = await admin('PATCH', { flags: { checkout: { defaultVariant: 'maybe' } } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { path: string }[] };
    expect(body.error).toMatch(/maybe/);
    expect(body.issues.map((i) => i.path)).toContain('flags.checkout.defaultVariant');
    expect(await (await admin('GET')).text()).toBe(before);
    expect((await admin('PUT', '{"flags":')).status).toBe(400);
  });

  it('guards against lost updates with If-Match', async () => {
    const { admin } = await serve();
    const etag = (await admin('GET')).headers.get('etag') as string;
    expect(
      (
        await admin(
          'PATCH',
          { flags: { checkout: { defaultVariant: 'on' } } },
          { 'If-Match': etag },
        )
      ).status,
    ).toBe(200);
    const stale = await admin(
      'PATCH',
      { flags: { checkout: { defaultVariant: 'off' } } },
      { 'If-Match': etag },
    );
    expect(stale.status).toBe(412);
  });

  it('requires the bearer token when one is set', async () => {
    const { admin } = await serve({ adminToken: 's3cret' });
    expect((await admin('GET')).status).toBe(401);
    expect((await admin('GET', undefined, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await admin('GET', undefined, { Authorization: 'Bearer s3cret' })).status).toBe(200);
  });

  it('refuses every request without a token when bound beyond loopback', async () => {
    const server = serverOnFreePorts({
      source: new InMemoryFlagSource({ checkout }),
      host: '0.0.0.0',
    });
    const { managementPort } = await server.start();
    stops.push(() => server.stop());
    const res = await fetch(`http://127.0.0.1:${managementPort}/admin/flags`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/needs a token/);
  });

  it('refuses a body over the size limit', async () => {
    const { admin } = await serve({ adminMaxBytes: 1000 });
    const res = await admin('PUT', {
      flags: { checkout: { ...checkout, metadata: { note: 'x'.repeat(2000) } } },
    });
    expect(res.status).toBe(413);
  });

  it('writes a flag file atomically, so the file stays the source of truth', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, JSON.stringify({ flags: { checkout } }));
    const { admin } = await serve({
      sources: [{ name: 'flags.json', source: new FileFlagSource(file) }],
    });
    const res = await admin(
      'PATCH',
      { flags: { checkout: { defaultVariant: 'on' } } },
      {},
      '?source=flags.json',
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(readFileSync(file, 'utf8')).flags.checkout.defaultVariant).toBe('on');
    expect((await admin('GET', undefined, {}, '?source=elsewhere.json')).status).toBe(404);
  });
});

describe('mergePatch (RFC 7396)', () => {
  it.each([
    [{ a: 1, b: { c: 2 } }, { b: { c: null, d: 3 } }, { a: 1, b: { d: 3 } }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: 1 }, 'x', 'x'],
  ])('patches %j with %j into %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('keeps a "__proto__" key a key', () => {
    const patched = mergePatch({}, JSON.parse('{"__proto__":{"polluted":true}}')) as object;
    expect(Object.keys(patched)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
  });
});
