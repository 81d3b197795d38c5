import { connect as connectHttp2, type ClientHttp2Stream } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@openfeature/core';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryFlagSource } from 'rampflag';
import { DEFAULT_SERVER_LIMITS } from 'rampflag/server';
import { serverOnFreePorts } from '../support/test-server.js';

const MiB = 1024 * 1024;
const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A flag about `size` bytes big whose value ends with `marker` (a reader sees it last). */
const big = (marker: string, size = MiB) => ({
  variants: { v: `${'x'.repeat(size)}:${marker}` },
  defaultVariant: 'v',
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function serve() {
  const warnings: string[] = [];
  const logger: Logger = {
    error: () => undefined,
    warn: (message: string) => void warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
  };
  const source = new InMemoryFlagSource({ big: big('marker-0') });
  const server = serverOnFreePorts({
    source,
    logger,
    limits: { maxStreamBufferBytes: MiB },
  });
  const ports = await server.start();
  stops.push(() => server.stop());
  const gauge = async (transport: string) => {
    const text = await (await fetch(`http://127.0.0.1:${ports.managementPort}/metrics`)).text();
    const match = new RegExp(`rampflag_sync_streams\\{transport="${transport}"\\} (-?\\d+)`).exec(
      text,
    );
    return Number(match?.[1] ?? 0);
  };
  return { source, ports, warnings, gauge };
}

/** An SSE client over a raw socket; one that does not `read` never takes a byte off the socket. */
function sseClient(port: number, { read }: { read: boolean }) {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.write('GET /sync/sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n');
  let tail = '';
  if (read) socket.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-200)));
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  socket.on('error', () => undefined);
  stops.push(() => void socket.destroy());
  return { socket, closed, saw: (marker: string) => tail.includes(marker) };
}

describe('a sync stream whose client stops reading', () => {
  it('is limited to 16 MiB buffered by default', () => {
    expect(DEFAULT_SERVER_LIMITS.maxStreamBufferBytes).toBe(16 * MiB);
  });

  it('is closed once over maxStreamBufferBytes (SSE), while a reading client keeps its stream', async () => {
    const { source, ports, warnings, gauge } = await serve();
    const before = await gauge('sse');
    const reader = sseClient(ports.httpPort, { read: true });
    const stuck = sseClient(ports.httpPort, { read: false });
    await until(async () => (await gauge('sse')) === before + 2, 'both streams to open');
    await until(() => reader.saw('marker-0'), 'the first snapshot');
    for (let i = 1; i <= 24; i++) {
      source.set('big', big(`marker-${i}`));
      await until(() => reader.saw(`marker-${i}`), `change ${i} to reach the reader`);
    }
    expect(await gauge('sse')).toBe(before + 1); // the stuck stream alone is gone
    expect(warnings.join('\n')).toMatch(
      /closing a sse stream: the client has not read \d+ bytes, over the limit of 1048576/,
    );
    stuck.socket.resume(); // what the kernel held, then the end
    await stuck.closed;
    reader.socket.destroy();
    await until(async () => (await gauge('sse')) === before, 'the reader to be counted out');
    await sleep(50);
    expect(await gauge('sse')).toBe(before); // counted out once each, never below
  }, 60_000);

  it('is ended with RESOURCE_EXHAUSTED once over maxStreamBufferBytes (gRPC)', async () => {
    const { source, ports, warnings, gauge } = await serve();
    const before = await gauge('grpc');
    const session = connectHttp2(`http://127.0.0.1:${ports.syncPort}`);
    session.on('error', () => undefined);
    stops.push(() => void session.destroy());
    const call: ClientHttp2Stream = session.request({
      ':method': 'POST',
      ':path': '/flagd.sync.v1.FlagSyncService/SyncFlags',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    call.on('error', () => undefined);
    const trailers = new Promise<Record<string, unknown>>((done) =>
      call.once('trailers', (headers) => done(headers)),
    );
    call.end(Buffer.alloc(5)); // one empty SyncFlagsRequest; nothing is read from the call
    await until(async () => (await gauge('grpc')) === before + 1, 'the stream to open');
    for (let i = 1; i <= 24 && (await gauge('grpc')) > before; i++) {
      source.set('big', big(`marker-${i}`));
      await sleep(20);
    }
    expect(await gauge('grpc')).toBe(before);
    expect(warnings.join('\n')).toMatch(/closing a grpc stream: the client has not read \d+ bytes/);
    call.resume(); // the buffered snapshots, then the status
    expect((await trailers)['grpc-status']).toBe('8'); // RESOURCE_EXHAUSTED
    await sleep(50);
    expect(await gauge('grpc')).toBe(before);
  }, 60_000);
});
