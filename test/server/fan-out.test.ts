import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { FileFlagSource } from 'rampflag';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../support/cli-io.js';
import { clientFor, until } from '../support/provider-events.js';
import { scratchDir, stopOnce, stopsAfterEach } from '../support/scratch.js';
import { parseServeBanner, servePortArgs } from '../support/serve-process.js';
import { inProcessProvider } from '../support/sync-flags.js';
import { serverOnFreePorts } from '../support/test-server.js';

/**
 * rampflag as flagd-proxy: `rampflag serve --uri grpc://upstream:8015` takes the upstream's flags
 * over flagd's sync stream and fans them out to its own in-process providers.
 */

const { dir, file } = scratchDir('fan-out');
const stops = stopsAfterEach();
afterAll(() => OpenFeature.close());

const colorFlags = (color: string) =>
  JSON.stringify({
    flags: { color: { state: 'ENABLED', variants: { c: color, x: 'x' }, defaultVariant: 'c' } },
  });
const shopFlags = JSON.stringify({
  metadata: { flagSetId: 'shop' },
  flags: { 'shop-banner': { state: 'ENABLED', variants: { on: 'sale' }, defaultVariant: 'on' } },
});

/** An upstream FlagServer on two flag files; resolves with its sync port and the files. */
async function upstream() {
  const colors = file('colors.json', colorFlags('red'));
  const shop = file('shop.json', shopFlags);
  const source = (path: string) => ({
    name: path,
    source: new FileFlagSource(path, { pollIntervalMs: 50, debounceMs: 10 }),
  });
  const server = serverOnFreePorts({ sources: [source(colors), source(shop)] });
  const { syncPort } = await server.start();
  const stop = stopOnce(() => server.stop());
  stops.push(stop);
  return { syncPort, colors, shop, stop };
}

/** `rampflag serve <args>` in this process, until the test ends; resolves with its ports and output. */
async function proxy(args: readonly string[]) {
  const { io, out, err, stop } = fakeIo();
  const running = main(['serve', ...args, ...servePortArgs()], io);
  stops.push(async () => {
    stop();
    expect(await running).toBe(0);
  });
  await until(() => out.length > 0 || err.length > 0, 'the proxy starting', 10_000);
  const ports = parseServeBanner(out[0] ?? '');
  if (ports === undefined)
    throw new Error(`the proxy did not start: ${[...out, ...err].join('\n')}`);
  const management = `http://127.0.0.1:${ports.management}`;
  return { ports, management, out, err };
}

async function providerOn(port: number, selector?: string) {
  const provider = inProcessProvider(port, selector === undefined ? {} : { selector });
  const client = await clientFor(provider);
  stops.push(() => provider.onClose());
  return client;
}

describe('rampflag serve --uri grpc://… as a fan-out proxy', () => {
  it('takes a change of the upstream file to every provider on the proxy', async () => {
    const up = await upstream();
    const { ports, out } = await proxy(['--uri', `grpc://127.0.0.1:${up.syncPort}`]);
    expect(out[0]).toContain(`rampflag serving 127.0.0.1:${up.syncPort}: sync (gRPC)`);
    expect(out[0]).toContain('no audit log (--audit-log)');
    const first = await providerOn(ports.sync);
    const second = await providerOn(ports.sync);
    for (const { client } of [first, second]) {
      expect(await client.getStringValue('color', 'none')).toBe('red');
      expect(await client.getStringValue('shop-banner', 'none')).toBe('sale');
    }
    writeFileSync(up.colors, colorFlags('blue'));
    for (const { client, events } of [first, second]) {
      await until(
        () => events.some(([e]) => e === ProviderEvents.ConfigurationChanged),
        'the change through the proxy',
      );
      expect(await client.getStringValue('color', 'none')).toBe('blue');
    }
    expect(
      first.events.find(([e]) => e === ProviderEvents.ConfigurationChanged)?.[1]?.flagsChanged,
    ).toEqual(['color']);
  });

  it('names the upstream host:port as flagd does, for selectors', async () => {
    const up = await upstream();
    const local = join(dir, 'local.json');
    writeFileSync(
      local,
      JSON.stringify({
        flags: { mine: { state: 'ENABLED', variants: { y: 'yes' }, defaultVariant: 'y' } },
      }),
    );
    const { ports } = await proxy([local, '--uri', `grpc://127.0.0.1:${up.syncPort}`]);
    const { client } = await providerOn(ports.sync, `source=127.0.0.1:${up.syncPort}`);
    expect(await client.getStringValue('color', 'none')).toBe('red');
    expect((await client.getStringDetails('mine', 'none')).reason).toBe('ERROR'); // not selected
  });

  it('sends the --sources selector upstream: the proxy serves that selection only', async () => {
    const up = await upstream();
    const sources = JSON.stringify([
      { uri: `127.0.0.1:${up.syncPort}`, provider: 'grpc', selector: 'flagSetId=shop' },
    ]);
    const { ports } = await proxy(['--sources', sources]);
    const { client } = await providerOn(ports.sync);
    expect(await client.getStringValue('shop-banner', 'none')).toBe('sale');
    expect((await client.getStringDetails('color', 'none')).errorCode).toBe('FLAG_NOT_FOUND');
  });

  it("refuses writes through the proxy's admin API: the upstream owns the flags", async () => {
    const up = await upstream();
    const { management } = await proxy(['--uri', `grpc://127.0.0.1:${up.syncPort}`]);
    const source = encodeURIComponent(`127.0.0.1:${up.syncPort}`);
    const read = await fetch(`${management}/admin/flags?source=${source}`);
    expect(read.status).toBe(200);
    expect(Object.keys(((await read.json()) as { flags: object }).flags)).toEqual(
      expect.arrayContaining(['color', 'shop-banner']),
    );
    for (const method of ['PUT', 'PATCH']) {
      const res = await fetch(`${management}/admin/flags?source=${source}`, {
        method,
        body: JSON.stringify({ flags: {} }),
      });
      expect(res.status).toBe(405);
      expect(await res.text()).toMatch(/cannot be written/);
    }
    const kill = await fetch(`${management}/admin/flags/color/kill`, {
      method: 'POST',
      body: '{}',
    });
    expect(kill.status).toBe(409);
    expect(((await kill.json()) as { error: string }).error).toMatch(
      /comes from source "127\.0\.0\.1:\d+", which cannot be written/,
    );
  });

  it('keeps serving the last flags when the upstream goes away, and says so', async () => {
    const up = await upstream();
    const { ports, err } = await proxy(['--uri', `grpc://127.0.0.1:${up.syncPort}`]);
    const { client } = await providerOn(ports.sync);
    await up.stop();
    await until(() => err.some((l) => /source 127\.0\.0\.1:\d+ is stale/.test(l)), 'a stale log');
    expect(await client.getStringValue('color', 'none')).toBe('red');
  });

  it('fails to start, exit 1, when the upstream cannot be reached', async () => {
    const { io, err } = fakeIo();
    expect(await main(['serve', '--uri', 'grpc://127.0.0.1:1', ...servePortArgs()], io)).toBe(1);
    expect(err.join('\n')).toMatch(/rampflag serve: flagd sync stream: UNAVAILABLE/);
  });
});
