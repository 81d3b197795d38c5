import { EventEmitter } from 'node:events';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@openfeature/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerMetrics } from '../../src/server/metrics.js';
import { ServedFlags } from '../../src/server/served-flags.js';
import { parseSelector } from '../../src/server/selector.js';
import { Subscribers } from '../../src/server/subscribers.js';
import type { SyncCall } from '../../src/server/sync-service.js';

const silent: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
const all = parseSelector(undefined);

const stops: (() => unknown)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const stop of stops.splice(0).reverse()) await stop();
});

const flag = (value: string, flagSetId = 'shop') => ({
  state: 'ENABLED',
  variants: { v: value },
  defaultVariant: 'v',
  metadata: { flagSetId },
});

/** Served flags with one flag in set `shop` and one in set `blog`, and their subscribers. */
function setUp() {
  const flags = new ServedFlags(['mem'], undefined);
  const flagsNow = { shop: flag('s0', 'shop'), blog: flag('b0', 'blog') };
  flags.apply('mem', { flags: flagsNow });
  const subscribers = new Subscribers(flags, new ServerMetrics(), silent, 64 * 1024 * 1024);
  stops.push(() => subscribers.endAll());
  /** Changes one flag and broadcasts, as the server does; returns the new version. */
  const change = (key: 'shop' | 'blog', value: string) => {
    flagsNow[key] = flag(value, key);
    flags.apply('mem', { flags: { ...flagsNow } });
    subscribers.broadcast();
    return flags.version;
  };
  return { flags, subscribers, change };
}

/** A SyncFlags call whose writes complete only when the test says so. */
function fakeCall() {
  const emitter = new EventEmitter();
  emitter.on('error', () => undefined);
  const callbacks: ((error?: Error | null) => void)[] = [];
  const call = Object.assign(emitter, {
    write(_bytes: Uint8Array, done: (error?: Error | null) => void) {
      callbacks.push(done);
      return true;
    },
  });
  /** Completes the oldest write not yet completed. */
  const complete = () => callbacks.shift()?.();
  return { call: call as unknown as SyncCall, complete, emitter };
}

/** A loopback HTTP server whose every request becomes an SSE stream of `kind`. */
async function sseServer(subscribers: Subscribers, kind: 'sse' | 'ofrep-sse') {
  const server: Server = createServer((_req, res) => subscribers.addSse(res, all, kind));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  stops.push(
    () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return port;
}

/** Opens an SSE stream; with `read: false` nothing is taken off the socket until `resume`. */
async function sseClient(port: number, { read }: { read: boolean }) {
  const res = await new Promise<IncomingMessage>((done) =>
    get({ host: '127.0.0.1', port, path: '/sync/sse' }, done),
  );
  let text = '';
  const resume = () => res.on('data', (chunk: Buffer) => (text += chunk.toString())).resume();
  if (read) resume();
  else res.pause();
  stops.push(() => res.destroy());
  return { received: () => text, resume };
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('delivery of a configuration version to the sync streams', () => {
  it('keeps a gRPC stream whose write never completes pending; the wait times out naming it', async () => {
    const { flags, subscribers } = setUp();
    fakeCall(); // a second call that never subscribes: only open streams count
    const { call } = fakeCall();
    subscribers.addGrpc(call, all);
    const started = Date.now();
    const delivery = await subscribers.whenDelivered(flags.version, 100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(delivery).toEqual({
      version: flags.version,
      current: flags.version,
      streams: 1,
      sent: 0,
      pending: 1,
      transports: {
        grpc: { streams: 1, sent: 0 },
        sse: { streams: 0, sent: 0 },
        'ofrep-sse': { streams: 0, sent: 0 },
        'grpc-events': { streams: 0, sent: 0 },
        'connect-events': { streams: 0, sent: 0 },
        'grpc-web-events': { streams: 0, sent: 0 },
      },
    });
  });

  it('counts a gRPC stream once its write callback fires, settling a wait at once', async () => {
    const { flags, subscribers } = setUp();
    const { call, complete } = fakeCall();
    subscribers.addGrpc(call, all);
    const waiting = subscribers.whenDelivered(flags.version, 10_000);
    const started = Date.now();
    setTimeout(complete, 20);
    const delivery = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(delivery).toMatchObject({ streams: 1, sent: 1, pending: 0 });
    expect(delivery.transports.grpc).toEqual({ streams: 1, sent: 1 });
  });

  it('counts only the version of a completed write while a newer one is in flight', () => {
    const { flags, subscribers, change } = setUp();
    const { call, complete } = fakeCall();
    subscribers.addGrpc(call, all);
    const first = flags.version;
    const second = change('shop', 's1');
    expect(second).toBe(first + 1);
    complete();
    expect(subscribers.delivery(first).sent).toBe(1);
    expect(subscribers.delivery(second)).toMatchObject({ sent: 0, pending: 1, current: second });
    complete();
    expect(subscribers.delivery(second).sent).toBe(1);
  });

  it('counts a stream whose selection did not change as up to date with the new version', () => {
    const { subscribers, change } = setUp();
    const shop = fakeCall();
    const blog = fakeCall();
    subscribers.addGrpc(shop.call, parseSelector('flagSetId=shop'));
    subscribers.addGrpc(blog.call, parseSelector('flagSetId=blog'));
    shop.complete();
    blog.complete();
    const version = change('blog', 'b1'); // shop's selection is the same
    expect(subscribers.delivery(version)).toMatchObject({ streams: 2, sent: 1, pending: 1 });
    blog.complete();
    expect(subscribers.delivery(version)).toMatchObject({ streams: 2, sent: 2, pending: 0 });
  });

  it('counts an unchanged selection only once the message it last got was handed on', () => {
    const { subscribers, change } = setUp();
    const shop = fakeCall();
    subscribers.addGrpc(shop.call, parseSelector('flagSetId=shop'));
    const version = change('blog', 'b1');
    expect(subscribers.delivery(version).sent).toBe(0); // its first message is still in flight
    shop.complete();
    expect(subscribers.delivery(version).sent).toBe(1);
  });

  it('counts an SSE stream over a loopback connection as sent, with every change', async () => {
    const { flags, subscribers, change } = setUp();
    const port = await sseServer(subscribers, 'sse');
    const client = await sseClient(port, { read: true });
    const first = await subscribers.whenDelivered(flags.version, 5_000);
    expect(first).toMatchObject({ streams: 1, sent: 1, pending: 0 });
    expect(first.transports.sse).toEqual({ streams: 1, sent: 1 });
    const version = change('shop', 's1');
    expect(subscribers.delivery(version).sent).toBe(0); // not yet handed to the OS
    expect(await subscribers.whenDelivered(version, 5_000)).toMatchObject({ sent: 1, pending: 0 });
    await vi.waitFor(() => expect(client.received()).toContain(`id: ${version}\n`));
  });

  it('counts an OFREP SSE stream as sent once its notification was written', async () => {
    const { flags, subscribers, change } = setUp();
    const port = await sseServer(subscribers, 'ofrep-sse');
    await sseClient(port, { read: true });
    await vi.waitFor(() => expect(subscribers.size).toBe(1));
    const version = change('blog', 'b1');
    const delivery = await subscribers.whenDelivered(version, 5_000);
    expect(delivery.transports['ofrep-sse']).toEqual({ streams: 1, sent: 1 });
    expect(delivery.current).toBe(flags.version);
  });

  it('keeps an SSE stream pending while its client reads nothing and the OS holds no more', async () => {
    const { subscribers, change } = setUp();
    const port = await sseServer(subscribers, 'sse');
    const client = await sseClient(port, { read: false });
    await vi.waitFor(() => expect(subscribers.size).toBe(1));
    let version = 0;
    for (let i = 1; i <= 16; i++) version = change('shop', `${i}:${'x'.repeat(1024 * 1024)}`);
    const stuck = await subscribers.whenDelivered(version, 200);
    expect(stuck.transports.sse).toEqual({ streams: 1, sent: 0 });
    const waiting = subscribers.whenDelivered(version, 20_000);
    client.resume();
    expect(await waiting).toMatchObject({ sent: 1, pending: 0 });
  }, 30_000);

  it('settles a wait when the stream it waits on closes', async () => {
    const { flags, subscribers } = setUp();
    const waited = fakeCall();
    const done = fakeCall();
    subscribers.addGrpc(waited.call, all);
    subscribers.addGrpc(done.call, all);
    done.complete();
    const waiting = subscribers.whenDelivered(flags.version, 10_000);
    const started = Date.now();
    setTimeout(() => waited.emitter.emit('cancelled'), 20);
    const delivery = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(delivery).toMatchObject({ streams: 1, sent: 1, pending: 0 });
  });

  it('settles every wait when the streams are all ended', async () => {
    const { flags, subscribers } = setUp();
    subscribers.addGrpc(fakeCall().call, all);
    const waiting = subscribers.whenDelivered(flags.version, 10_000);
    subscribers.endAll();
    expect(await waiting).toMatchObject({ streams: 0, sent: 0, pending: 0 });
  });

  it('waits for a stream opened while waiting, and answers at once when nothing lags', async () => {
    const { flags, subscribers } = setUp();
    expect(await subscribers.whenDelivered(flags.version, 10_000)).toMatchObject({ streams: 0 });
    const early = fakeCall();
    subscribers.addGrpc(early.call, all);
    const waiting = subscribers.whenDelivered(flags.version, 10_000);
    const late = fakeCall();
    subscribers.addGrpc(late.call, all);
    early.complete();
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    late.complete();
    expect(await waiting).toMatchObject({ streams: 2, sent: 2 });
  });

  it('clears its timer when a wait settles, and its timer never keeps the process alive', async () => {
    const { flags, subscribers } = setUp();
    const { call, complete } = fakeCall();
    subscribers.addGrpc(call, all);
    const before = timeouts();
    const waiting = subscribers.whenDelivered(flags.version, 60_000);
    expect(timeouts()).toBe(before); // unref'd
    vi.useFakeTimers();
    const faked = subscribers.whenDelivered(flags.version, 60_000);
    expect(vi.getTimerCount()).toBe(1);
    complete();
    expect(vi.getTimerCount()).toBe(0); // cleared
    expect(await faked).toMatchObject({ sent: 1 });
    expect(await waiting).toMatchObject({ sent: 1 });
  });

  it('times out with fake timers too, clearing what it set', async () => {
    vi.useFakeTimers();
    const { flags, subscribers } = setUp();
    subscribers.addGrpc(fakeCall().call, all);
    const waiting = subscribers.whenDelivered(flags.version, 1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await waiting).toMatchObject({ pending: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
