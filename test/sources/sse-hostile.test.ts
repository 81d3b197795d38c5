import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlagdProvider, SseFlagSource } from 'rampflag';
import { deepArray } from '../support/hostile-sync-contract.js';
import { clientFor, until } from '../support/provider-events.js';
import { syncFlags } from '../support/sync-flags.js';

afterAll(() => OpenFeature.close());

/** An SSE sync server that sends any event data it is given, as a broken or hostile one might. */
async function rawSseServer(first: string) {
  const streams = new Set<ServerResponse>();
  const send = (res: ServerResponse, data: string) =>
    res.write(`event: configuration\ndata: ${data}\n\n`);
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    streams.add(res);
    res.on('close', () => streams.delete(res));
    send(res, first);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sync`,
    push: (data: string) => streams.forEach((res) => send(res, data)),
    stop: () =>
      new Promise<void>((resolve) => {
        streams.forEach((res) => res.destroy());
        server.close(() => resolve());
      }),
  };
}

const snapshot = (color: string) =>
  JSON.stringify({ flagConfiguration: JSON.stringify(syncFlags(color)) });

describe('SseFlagSource against a server that sends garbage', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it.each([
    ['data that is not JSON', '{"flagConfiguration": '],
    ['data that is not an object', '[1, 2]'],
    ['a flagConfiguration that is not a string', '{"flagConfiguration": {"flags": {}}}'],
    ['no flagConfiguration', '{"syncContext": {}}'],
    [
      'a sync context that is not an object',
      JSON.stringify({ flagConfiguration: JSON.stringify(syncFlags('blue')), syncContext: [1] }),
    ],
    [
      'a sync context nested 100,000 deep',
      `{"flagConfiguration": ${JSON.stringify(JSON.stringify(syncFlags('blue')))}, "syncContext": {"a": ${deepArray(100_000)}}}`,
    ],
  ])('reports %s as an error and keeps the last good flags', async (_, data) => {
    const server = await rawSseServer(snapshot('red'));
    cleanup.push(server.stop);
    const provider = new FlagdProvider({
      source: new SseFlagSource(server.url, { retryBackoffMs: 20, retryBackoffMaxMs: 100 }),
    });
    cleanup.push(() => provider.onClose());
    const { client, events } = await clientFor(provider);
    server.push(data);
    await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
    expect(String(events.find(([e]) => e === ProviderEvents.Error)?.[1]?.message)).toMatch(
      /unreadable event/,
    );
    expect(await client.getStringValue('color', '')).toBe('red');
    server.push(snapshot('green'));
    await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event');
    expect(await client.getStringValue('color', '')).toBe('green');
  });
});
