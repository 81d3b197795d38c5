import type { ChildProcess } from 'node:child_process';
import { serverOnFreePorts } from '../support/test-server.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InMemoryFlagSource } from 'rampflag';
import { freePort } from '../support/launchpad.js';
import { clientFor, until } from '../support/provider-events.js';
import { servePortArgs, spawnServe, stopProcess } from '../support/serve-process.js';
import { inProcessProvider } from '../support/sync-flags.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-resilience-'));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const banner = (value: string) =>
  JSON.stringify({
    flags: { banner: { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' } },
  });
const seen = (events: [string, unknown][]) => events.map(([event]) => event);

/**
 * A TCP proxy that can be partitioned: while partitioned, open connections stay open but carry
 * nothing, and new ones are accepted and then ignored, as behind a dropped route.
 */
async function partitionableProxy(target: number) {
  let partitioned = false;
  const pairs: [Socket, Socket][] = [];
  const limbo: Socket[] = [];
  const server: Server = createServer((client) => {
    if (partitioned) {
      limbo.push(client); // accepted, never answered
      return;
    }
    const upstream = createConnection(target, '127.0.0.1');
    pairs.push([client, upstream]);
    client.on('data', (chunk) => partitioned || upstream.write(chunk));
    upstream.on('data', (chunk) => partitioned || client.write(chunk));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as { port: number }).port,
    partition: () => (partitioned = true),
    heal: () => {
      partitioned = false;
      // what crossed the partition is gone: the peers' half-open connections are reset
      for (const socket of [...pairs.splice(0).flat(), ...limbo.splice(0)]) socket.destroy();
    },
    close: () => {
      for (const socket of [...pairs.flat(), ...limbo]) socket.destroy();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

describe('the in-process provider across server failures', () => {
  it('survives `rampflag serve` killed outright: STALE, the last good flags, then the new flags', async () => {
    const file = join(dir, 'killed.json');
    writeFileSync(file, banner('before'));
    const port = await freePort();
    const args = [file, ...servePortArgs(port)];
    let child: ChildProcess = await spawnServe(args);
    cleanups.push(() => stopProcess(child));
    const { client, events } = await clientFor(inProcessProvider(port, { retryGracePeriod: 30 }));

    await stopProcess(child, 'SIGKILL'); // no goodbye: the connection just drops
    await until(() => seen(events).includes(ProviderEvents.Stale), 'STALE');
    expect(await client.getStringValue('banner', 'default')).toBe('before');

    writeFileSync(file, banner('after'));
    child = await spawnServe(args);
    await until(() => seen(events).includes(ProviderEvents.ConfigurationChanged), 'the new flags');
    expect(seen(events)).toEqual([
      ProviderEvents.Stale,
      ProviderEvents.Ready,
      ProviderEvents.ConfigurationChanged,
    ]);
    expect(await client.getStringValue('banner', 'default')).toBe('after');
  });

  it('notices a silent partition by keepalive, keeps serving, and catches up when it heals', async () => {
    const source = new InMemoryFlagSource({
      banner: { variants: { v: 'before' }, defaultVariant: 'v' },
    });
    const server = serverOnFreePorts({
      source,
    });
    const { syncPort } = await server.start();
    cleanups.push(() => server.stop());
    const proxy = await partitionableProxy(syncPort);
    cleanups.push(() => proxy.close());
    const { client, events } = await clientFor(
      inProcessProvider(proxy.port, { keepAliveTime: 300, retryGracePeriod: 1 }),
    );

    proxy.partition();
    source.setValue('banner', 'after'); // cannot get through
    await until(() => seen(events).includes(ProviderEvents.Stale), 'STALE from keepalive', 5000);
    await until(
      () => seen(events).includes(ProviderEvents.Error),
      'ERROR after the grace period',
      5000,
    );
    expect(await client.getStringValue('banner', 'default')).toBe('before');

    proxy.heal();
    await until(
      () => seen(events).includes(ProviderEvents.ConfigurationChanged),
      'the change made during the partition',
      10_000,
    );
    expect(seen(events).slice(0, 2)).toEqual([ProviderEvents.Stale, ProviderEvents.Error]);
    expect(seen(events)).toContain(ProviderEvents.Ready);
    expect(await client.getStringValue('banner', 'default')).toBe('after');
  });
});

describe('connecting through a proxy that routes on :authority', () => {
  /** An HTTP/2 server that records each request's :authority and refuses it, as envoy's 403 route. */
  async function authorityRecorder() {
    const { createServer: createH2 } = await import('node:http2');
    const seen: string[] = [];
    const server = createH2((req, res) => {
      seen.push(req.headers[':authority'] ?? '');
      res.writeHead(403).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
    return { port: (server.address() as { port: number }).port, seen };
  }

  it.each([
    [
      'targetUri envoy://<proxy>/<service>',
      (port: number) => ({ targetUri: `envoy://127.0.0.1:${port}/flagd-sync.service` }),
    ],
    ['defaultAuthority', (port: number) => ({ port, defaultAuthority: 'flagd-sync.service' })],
  ])('sends the service as the authority with %s', async (_how, settings) => {
    const proxy = await authorityRecorder();
    const provider = inProcessProvider(0, {
      ...settings(proxy.port),
      fatalStatusCodes: ['PERMISSION_DENIED'],
    });
    await expect(provider.initialize()).rejects.toThrow(/PERMISSION_DENIED/);
    await provider.onClose();
    expect(proxy.seen).toContain('flagd-sync.service');
  });
});
