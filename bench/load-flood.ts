/**
 * The selector flood, in a process of its own (so it shares no event loop with autocannon or the
 * server): one loop per path, each request with a `Flagd-Selector` never sent before, alternating
 * `flagSetId=<random>` and `source=<random>`, over keep-alive connections where the path allows:
 * the evaluation API, OFREP, SSE (opened, first event read, closed) and gRPC FetchAllFlags.
 * Each loop keeps to a quarter of `rate` requests per second (so the flood's cost to the machine
 * is the same in every run; its cost to the server is what is measured). With `same`, every request
 * carries one selector instead: the control, the same traffic without new selectors.
 * Runs until the parent sends "stop", then sends back the counts and exits.
 * `fork('bench/load-flood.ts', [httpPort, ofrepPort, syncPort, rate, 'unique' | 'same'])`
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import * as grpc from '@grpc/grpc-js';

const [http, ofrep, sync, rate] = process.argv.slice(2, 6).map(Number) as [
  number,
  number,
  number,
  number,
];
const same = process.argv[6] === 'same';
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const counts = { evaluation: 0, ofrep: 0, sse: 0, fetchAll: 0, failed: 0 };
let running = true;
let serial = 0;

const selector = () =>
  same
    ? 'flagSetId=flood'
    : `${++serial % 2 === 0 ? 'flagSetId' : 'source'}=flood-${serial}-${randomBytes(6).toString('hex')}`;

/** One request; resolves when the response ended (or, with `firstChunk`, when data came). */
function send(port: number, method: string, path: string, body?: string, firstChunk = false) {
  return new Promise<void>((done) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: firstChunk ? false : agent,
        headers: { 'content-type': 'application/json', 'flagd-selector': selector() },
      },
      (res) => {
        if (firstChunk) {
          res.once('data', () => {
            req.destroy();
            done();
          });
          res.once('end', done);
        } else {
          res.resume();
          res.once('end', done);
        }
        if ((res.statusCode ?? 500) >= 500) counts.failed++;
      },
    );
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => {
      counts.failed++;
      done();
    });
    req.end(body);
  });
}

const context = JSON.stringify({ targetingKey: 'flood', ring: 'internal' });
const loops = [
  async () => {
    await send(
      http,
      'POST',
      '/flagd.evaluation.v1.Service/ResolveBoolean',
      `{"flagKey":"checkout","context":${context}}`,
    );
    counts.evaluation++;
  },
  async () => {
    await send(ofrep, 'POST', '/ofrep/v1/evaluate/flags/checkout', `{"context":${context}}`);
    counts.ofrep++;
  },
  async () => {
    await send(http, 'GET', '/sync/sse', undefined, true);
    counts.sse++;
  },
  (() => {
    const client = new grpc.Client(`127.0.0.1:${sync}`, grpc.credentials.createInsecure());
    return () =>
      new Promise<void>((done) => {
        const metadata = new grpc.Metadata();
        metadata.set('flagd-selector', selector());
        client.makeUnaryRequest(
          '/flagd.sync.v1.FlagSyncService/FetchAllFlags',
          (message: Buffer) => message,
          (bytes: Buffer) => bytes,
          Buffer.alloc(0),
          metadata,
          { deadline: Date.now() + 5000 },
          (error) => {
            if (error) counts.failed++;
            counts.fetchAll++;
            done();
          },
        );
      });
  })(),
];

const started = Date.now();
const MAX_MS = 30 * 60_000; // a loop is bounded even if the parent never says stop
const interval = (1000 * loops.length) / rate;
const finished = loops.map(async (once) => {
  let next = Date.now();
  while (running && Date.now() - started < MAX_MS) {
    await once();
    next = Math.max(next + interval, Date.now() - 1000); // catch up at most a second's worth
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
});

process.on('message', async (message) => {
  if (message !== 'stop') return;
  running = false;
  await Promise.all(finished);
  process.send?.({ ...counts, seconds: (Date.now() - started) / 1000 }, () => process.exit(0));
});
process.send?.('started');
