import { connect as connectHttp2 } from 'node:http2';
import { createServer as createHttpServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { serveHttp2 } from '../../src/server/h2c.js';
import { stopsAfterEach } from '../support/scratch.js';
import { serveStopping } from '../support/test-server.js';

const stops = stopsAfterEach();

/** A gRPC `EventStream` and a Connect one on one h2c connection, then the client's socket gone. */
async function openAndVanish(url: string) {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  const session = connectHttp2(url, { createConnection: () => socket });
  session.on('error', () => {});
  const grpcCall = session.request({
    ':method': 'POST',
    ':path': '/flagd.evaluation.v1.Service/EventStream',
    'content-type': 'application/grpc',
  });
  grpcCall.end(Buffer.from([0, 0, 0, 0, 0]));
  const connectCall = session.request({
    ':method': 'POST',
    ':path': '/flagd.evaluation.v1.Service/EventStream',
    'content-type': 'application/connect+json',
  });
  connectCall.end(Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('{}')]));
  for (const call of [grpcCall, connectCall]) {
    call.on('error', () => {});
    await new Promise((resolve) => call.once('data', resolve)); // provider_ready
  }
  return () => socket.destroy(); // a crash, a SIGKILL: FIN, no GOAWAY, no RST_STREAM
}

describe('a client that vanishes without closing its streams (FIN only)', () => {
  it('has its h2c session, streams and connection closed, not held for ever', async () => {
    const { url, managementPort, stop } = await serveStopping(stops, {
      limits: { maxConnections: 2 },
    });
    const delivery = async () =>
      (await (
        await fetch(`http://127.0.0.1:${managementPort}/admin/delivery?version=0`)
      ).json()) as {
        streams: number;
      };
    const vanish = [await openAndVanish(url), await openAndVanish(url)];
    expect((await delivery()).streams).toBe(4);
    for (const go of vanish) go();
    let streams = 4;
    for (let i = 0; i < 100 && streams > 0; i++) {
      streams = (await delivery()).streams;
      if (streams > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(streams).toBe(0);
    // the connection cap (2) is free again: a new client gets an answer
    const res = await fetch(`${url}/flagd.evaluation.v1.Service/ResolveBoolean`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flagKey: 'checkout' }),
    });
    expect(res.status).toBe(200);
    const started = Date.now();
    await stop();
    expect(Date.now() - started).toBeLessThan(900); // nothing left for stop()'s 1 s fallback
  });
});

describe('a client that connects as the server stops', () => {
  it('is closed at once, rather than sniffed until the headers timeout holds the close', async () => {
    const server = createHttpServer();
    const side = serveHttp2(server, false, () => undefined, {
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
      maxConcurrentStreams: 10,
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    stops.push(() => new Promise((done) => server.close(done)));
    side.closeAll(1000); // stop() begins; the listener is still open
    const late = connect((server.address() as AddressInfo).port, '127.0.0.1');
    late.on('error', () => {});
    const started = Date.now();
    await new Promise((resolve) => late.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
