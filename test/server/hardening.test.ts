import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileFlagSource, InMemoryFlagSource } from 'rampflag';
import type { FlagServerOptions } from 'rampflag/server';
import { decodeSyncResponse } from '../../src/grpc/wire.js';
import { ifMatches } from '../../src/server/admin-api.js';
import { isLoopbackHost } from '../../src/server/http-util.js';
import { clientFor } from '../support/provider-events.js';
import { openSocket, rawRequest } from '../support/raw-http.js';
import { inProcessProvider } from '../support/sync-flags.js';
import { serverOnFreePorts } from '../support/test-server.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-hardening-'));
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
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const json = 'application/json';

async function serve(options: Partial<FlagServerOptions> = {}) {
  const server = serverOnFreePorts({ source: new InMemoryFlagSource({ checkout }), ...options });
  const ports = await server.start();
  stops.push(() => server.stop());
  const managementPort = ports.managementPort as number;
  const admin = (method: string, body?: unknown, headers: Record<string, string> = {}) =>
    rawRequest(managementPort, {
      method,
      path: '/admin/flags',
      headers: { 'Content-Type': json, ...headers },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  const evaluate = (body: string, headers: Record<string, string> = {}) =>
    rawRequest(ports.httpPort, {
      method: 'POST',
      path: '/flagd.evaluation.v1.Service/ResolveBoolean',
      headers: { 'Content-Type': json, ...headers },
      body,
    });
  return { ...ports, managementPort, admin, evaluate };
}

/** A flag file in its own folder, served by a FlagServer; `watch: false` delivers no edits. */
async function serveFile(content: object, { watch = true } = {}) {
  const folder = mkdtempSync(join(dir, 'flags-'));
  const file = join(folder, 'flags.json');
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  const timing = watch ? { debounceMs: 10 } : { debounceMs: 60_000, pollIntervalMs: 60_000 };
  const served = await serve({ source: new FileFlagSource(file, timing) });
  return { ...served, file, folder };
}

const defaultsIn = (file: string) =>
  Object.fromEntries(
    Object.entries(
      (
        JSON.parse(readFileSync(file, 'utf8')) as {
          flags: Record<string, { defaultVariant: string }>;
        }
      ).flags,
    ).map(([key, flag]) => [key, flag.defaultVariant]),
  );

describe('the admin API with concurrent writers', () => {
  async function slowPatch(port: number, patch: object, headers: Record<string, string>) {
    let finish!: () => void;
    const response = rawRequest(port, {
      method: 'PATCH',
      path: '/admin/flags',
      headers: { 'Content-Type': json, ...headers },
      body: JSON.stringify(patch),
      beforeLastSlice: new Promise<void>((resolve) => (finish = resolve)),
    });
    await sleep(100); // its headers and half its body are in
    return { response, finish };
  }

  it('checks If-Match when it writes: a slow PATCH after another change gets 412', async () => {
    const { admin, managementPort, file } = await serveFile({
      flags: { checkout, other: checkout },
    });
    const etag = (await admin('GET')).headers['etag'] as string;
    const slow = await slowPatch(
      managementPort,
      { flags: { checkout: { defaultVariant: 'on' } } },
      { 'If-Match': etag },
    );
    const fast = await admin(
      'PATCH',
      { flags: { other: { defaultVariant: 'on' } } },
      {
        'If-Match': etag,
      },
    );
    expect(fast.status).toBe(200);
    slow.finish();
    expect((await slow.response).status).toBe(412);
    expect(defaultsIn(file)).toEqual({ checkout: 'off', other: 'on' });
  });

  it('merges a slow PATCH without If-Match into what is stored when it writes', async () => {
    const { admin, managementPort, file } = await serveFile({
      flags: { checkout, other: checkout },
    });
    const slow = await slowPatch(
      managementPort,
      { flags: { checkout: { defaultVariant: 'on' } } },
      {},
    );
    expect((await admin('PATCH', { flags: { other: { defaultVariant: 'on' } } })).status).toBe(200);
    slow.finish();
    expect((await slow.response).status).toBe(200);
    expect(defaultsIn(file)).toEqual({ checkout: 'on', other: 'on' });
  });

  it('compares against the file on disk, even before the watcher saw an edit', async () => {
    const { admin, file } = await serveFile({ flags: { checkout } }, { watch: false });
    const etag = (await admin('GET')).headers['etag'] as string;
    writeFileSync(
      file,
      JSON.stringify({ flags: { checkout: { ...checkout, defaultVariant: 'on' } } }),
    );
    const res = await admin('PATCH', { flags: { extra: checkout } }, { 'If-Match': etag });
    expect(res.status).toBe(412);
    expect(defaultsIn(file)).toEqual({ checkout: 'on' });
  });

  it('accepts If-Match: * and a list holding the current tag', async () => {
    const { admin } = await serve();
    const etag = (await admin('GET')).headers['etag'] as string;
    const patch = (defaultVariant: string, ifMatch: string) =>
      admin('PATCH', { flags: { checkout: { defaultVariant } } }, { 'If-Match': ifMatch });
    expect((await patch('on', '*')).status).toBe(200);
    const now = (await admin('GET')).headers['etag'] as string;
    expect((await patch('off', `"stale", ${etag}`)).status).toBe(412);
    expect((await patch('off', `"stale", ${now}`)).status).toBe(200);
  });

  it.each([
    [undefined, '"a"', true],
    ['*', '"a"', true],
    ['"a"', '"a"', true],
    ['"b", "a"', '"a"', true],
    ['W/"a"', '"a"', false],
    ['"b"', '"a"', false],
  ])('If-Match %s on %s matches: %s', (header, etag, expected) => {
    expect(ifMatches(header, etag)).toBe(expected);
  });
});

describe('the admin API refuses what cannot be served', () => {
  it('refuses a PATCH nested too deep, saying so', async () => {
    const { admin } = await serve();
    const res = await admin('PATCH', `{"flags":{"checkout":{"metadata":${nested(100_000)}}}}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(
      /nested 100003 levels deep at flags\.checkout\.metadata\.a…, over the limit of 128/,
    );
  });

  it('refuses a configuration with an extra key nested 100,000 deep, and keeps serving', async () => {
    const { admin, evaluate } = await serve();
    const res = await admin(
      'PUT',
      `{"flags":{"checkout":${JSON.stringify(checkout)}},"x":${nested(100_000)}}`,
    );
    expect(res.status).toBe(400);
    const flagSet = await evaluate('{"flagKey":"checkout"}', { 'Flagd-Selector': 'flagSetId=' });
    expect(flagSet.status).toBe(200);
  });

  it('refuses a shared evaluator nested 5,000 deep with 400 naming it', async () => {
    const { admin } = await serve();
    const deep = `${'{"if":['.repeat(5000)}true${']}'.repeat(5000)}`;
    const res = await admin('PUT', `{"flags":{},"$evaluators":{"deep":${deep}}}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/at \$evaluators\.deep\.if\[0\]…/);
  });

  it('refuses a write that removes an evaluator a flag still uses', async () => {
    const { admin, evaluate } = await serve({
      source: new InMemoryFlagSource(
        { checkout: { ...checkout, targeting: { if: [{ $ref: 'staff' }, 'on', 'off'] } } },
        { evaluators: { staff: { in: ['@example.com', { var: 'email' }] } } },
      ),
    });
    const res = await admin('PATCH', { $evaluators: { staff: null } });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body) as { issues: { path: string; message: string }[] };
    expect(body.issues).toEqual([
      expect.objectContaining({
        path: expect.stringContaining('checkout') as string,
        message: expect.stringMatching(/unknown shared evaluator "staff"/) as string,
      }),
    ]);
    const staff = await evaluate('{"flagKey":"checkout","context":{"email":"a@example.com"}}');
    expect(JSON.parse(staff.body)).toMatchObject({ value: true });
  });

  it('refuses a PATCH that merges an operator into an existing rule, which could never evaluate', async () => {
    const { admin } = await serve({
      source: new InMemoryFlagSource({
        checkout: {
          ...checkout,
          targeting: { if: [{ in: [{ var: 'ring' }, ['internal']] }, 'on', null] },
        },
      }),
    });
    const res = await admin('PATCH', { flags: { checkout: { targeting: { foo: [1] } } } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).issues).toEqual([
      expect.objectContaining({
        rule: 'several-keys',
        message: expect.stringMatching(/several keys \(if, foo\) is data, not a rule/) as string,
      }),
    ]);
  });

  it('answers 405 for other methods and for a source it cannot write', async () => {
    const { admin } = await serve();
    const res = await admin('DELETE');
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, PUT, PATCH');
  });

  it('answers 405 for a write to a source that cannot be written', async () => {
    const readOnly = {
      start: (sink: { configuration(payload: object): void }) =>
        Promise.resolve(sink.configuration({ flags: { checkout } })),
      stop: () => Promise.resolve(),
    };
    const { admin } = await serve({ source: readOnly });
    expect((await admin('GET')).status).toBe(200);
    const res = await admin('PATCH', { flags: { checkout: { defaultVariant: 'on' } } });
    expect(res.status).toBe(405);
    expect(JSON.parse(res.body).error).toMatch(/cannot be written/);
  });

  it('answers 400 for a PATCH that is not JSON', async () => {
    const { admin } = await serve();
    const res = await admin('PATCH', '{"flags":');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/not valid JSON/);
  });
});

describe('the admin API when storing fails', () => {
  it('serves the previous configuration again and answers 500', async () => {
    const source = new InMemoryFlagSource({ checkout });
    source.write = () => Promise.reject(new Error('the store is full'));
    const { admin, evaluate } = await serve({ source });
    const res = await admin('PATCH', { flags: { checkout: { defaultVariant: 'on' } } });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ code: 'internal', message: 'the store is full' });
    expect(JSON.parse((await evaluate('{"flagKey":"checkout"}')).body)).toMatchObject({
      value: false,
    });
  });

  it('tells every stream when it serves the previous flags again after a failed store', async () => {
    const source = new InMemoryFlagSource({ checkout });
    source.write = () => sleep(300).then(() => Promise.reject(new Error('the store is full')));
    const { admin, syncPort } = await serve({ source });
    const patch = admin('PATCH', { flags: { checkout: { defaultVariant: 'on' } } });
    await sleep(100);
    // a provider that connects while the write is in flight gets the new flags ...
    const { client } = await clientFor(inProcessProvider(syncPort));
    expect(await client.getBooleanValue('checkout', false)).toBe(true);
    expect((await patch).status).toBe(500);
    // ... and is told when they are taken back
    const deadline = Date.now() + 5000;
    while ((await client.getBooleanValue('checkout', true)) && Date.now() < deadline)
      await sleep(20);
    expect(await client.getBooleanValue('checkout', true)).toBe(false);
  });

  it('answers 500 naming the file when a flag file cannot be written', async () => {
    const { admin, folder } = await serveFile({ flags: { checkout } }, { watch: false });
    rmSync(folder, { recursive: true, force: true });
    const res = await admin('PATCH', { flags: { checkout: { defaultVariant: 'on' } } });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).message).toMatch(/flags\.json/);
  });

  it('answers 500 with the error when a source fails to be read', async () => {
    const source = new InMemoryFlagSource({ checkout });
    source.read = () => Promise.reject(new Error('the store is down'));
    const { admin } = await serve({ source });
    const res = await admin('GET');
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ code: 'internal', message: 'the store is down' });
  });
});

describe('the admin API without a token (DNS rebinding)', () => {
  it.each([
    ['attacker.example', 403],
    ['127.attacker.example', 403],
    ['127.0.0.1.attacker.example:80', 403],
    ['localhost', 200],
    ['127.0.0.1', 200],
  ])('answers Host: %s with %i', async (host, status) => {
    const { admin, managementPort } = await serve();
    const port = host.includes(':') ? host : `${host}:${managementPort}`;
    const res = await admin('GET', undefined, { Host: port });
    expect(res.status).toBe(status);
  });

  it.each([
    ['localhost', true],
    ['LOCALHOST.', true],
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::1', true],
    ['127.evil.example', false],
    ['127.0.0.1.nip.io', false],
    ['0.0.0.0', false],
    ['::', false],
    [undefined, false],
  ])('takes %s for loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('takes the Bearer scheme in any case', async () => {
    const { admin } = await serve({ adminToken: 's3cret' });
    for (const scheme of ['Bearer', 'bearer', 'BEARER'])
      expect((await admin('GET', undefined, { Authorization: `${scheme} s3cret` })).status).toBe(
        200,
      );
    expect((await admin('GET', undefined, { Authorization: 'Basic s3cret' })).status).toBe(401);
  });
});

describe('the evaluation API and OFREP refuse hostile requests', () => {
  it('refuses a context nested 100,000 deep with a 400 that says so', async () => {
    const { evaluate, ofrepPort } = await serve();
    const res = await evaluate(`{"flagKey":"checkout","context":${nested(100_000)}}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'invalid_argument' });
    expect(JSON.parse(res.body).message).toMatch(/nested 100001 levels deep/);
    const ofrep = await rawRequest(ofrepPort as number, {
      method: 'POST',
      path: '/ofrep/v1/evaluate/flags/checkout',
      headers: { 'Content-Type': json },
      body: `{"context":${nested(100_000)}}`,
    });
    expect(ofrep.status).toBe(400);
    expect(JSON.parse(ofrep.body)).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
  });

  it('answers a malformed percent-encoding in an OFREP key with 400', async () => {
    const { ofrepPort } = await serve();
    const res = await rawRequest(ofrepPort as number, {
      method: 'POST',
      path: '/ofrep/v1/evaluate/flags/%E0%A4%A',
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).errorDetails).toMatch(/percent-encoding/);
  });

  it('answers 405 for a GET of an evaluation method', async () => {
    const { httpPort } = await serve();
    const res = await rawRequest(httpPort, { path: '/flagd.evaluation.v1.Service/ResolveBoolean' });
    expect(res.status).toBe(405);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'unimplemented' });
  });

  it('answers an invalid selector with 400', async () => {
    const { evaluate } = await serve();
    const res = await evaluate('{"flagKey":"checkout"}', { 'Flagd-Selector': 'colour=blue' });
    expect(res.status).toBe(400);
  });
});

describe('the listeners hold no client forever', () => {
  it('closes a connection that never finishes its headers', async () => {
    const { httpPort } = await serve({ limits: { headersTimeoutMs: 300 } });
    const { socket, closed } = await openSocket(httpPort);
    socket.write('POST /flagd.evaluation.v1.Service/ResolveBoolean HTTP/1.1\r\nHost: x\r\n');
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('closes a connection whose body never arrives', async () => {
    const { httpPort } = await serve({ limits: { requestTimeoutMs: 300 } });
    const { socket, closed } = await openSocket(httpPort);
    socket.write(
      'POST /flagd.evaluation.v1.Service/ResolveBoolean HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{',
    );
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses connections past the cap', async () => {
    const { httpPort } = await serve({ limits: { maxConnections: 3 } });
    const sockets = await Promise.all(Array.from({ length: 6 }, () => openSocket(httpPort)));
    const closedSoon = await Promise.all(
      sockets.map(({ closed }) =>
        Promise.race([closed.then(() => true), sleep(500).then(() => false)]),
      ),
    );
    expect(closedSoon.filter(Boolean)).toHaveLength(3);
    for (const { socket } of sockets) socket.destroy();
  });

  it('binds IPv6 addresses, gRPC included', async () => {
    const { syncPort, httpPort } = await serve({ host: '::1' });
    expect(syncPort).toBeGreaterThan(0);
    const res = await rawRequest(httpPort, { host: '::1', path: '/healthz' });
    expect(res.status).toBe(200);
  });
});

describe('the deprecated GetMetadata', () => {
  const getMetadata = async (syncPort: number) => {
    const client = new grpc.Client(`127.0.0.1:${syncPort}`, grpc.credentials.createInsecure());
    try {
      return await new Promise<Record<string, unknown>>((resolve, reject) =>
        client.makeUnaryRequest(
          '/flagd.sync.v1.FlagSyncService/GetMetadata',
          () => Buffer.alloc(0),
          (bytes: Buffer) => decodeSyncResponse(bytes).syncContext ?? {},
          {},
          (error, value) => (error ? reject(error) : resolve(value as Record<string, unknown>)),
        ),
      );
    } finally {
      client.close();
    }
  };

  it('answers with the sync context', async () => {
    const { syncPort } = await serve({ syncContext: { region: 'eu' } });
    // GetMetadataResponse and SyncFlagsResponse both carry the Struct in field 2
    expect(await getMetadata(syncPort)).toEqual({ region: 'eu' });
  });

  it('answers UNIMPLEMENTED when disabled, as flagd does', async () => {
    const { syncPort } = await serve({ syncContext: { region: 'eu' }, disableSyncMetadata: true });
    await expect(getMetadata(syncPort)).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });
});
