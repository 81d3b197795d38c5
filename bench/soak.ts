/**
 * The soak benchmark: `rampflag serve` (the build, in a child process) under configuration churn
 * (admin API PATCH and PUT, each write broadcast to every stream) and client churn (gRPC SyncFlags
 * and SSE streams opened, held briefly, closed), for `--minutes` (10; `--smoke` 10 s). The server's
 * live heap (after a full GC) and RSS are sampled; the least-squares slope after the first tenth
 * says whether anything accumulates, and `rampflag_sync_streams` must return to 0 at the end.
 * `node --import tsx bench/soak.ts [--smoke] [--minutes 10] [--json]`; exits 1 if a target fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { MeasuredServe, mb, type MemorySample } from './measured-serve.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const minutesAt = args.indexOf('--minutes');
const minutes = minutesAt >= 0 ? Number(args[minutesAt + 1]) : smoke ? 1 / 6 : 10;
const durationMs = minutes * 60_000;
const gcEveryMs = smoke ? 500 : 5000;
const STREAM_LOOPS = 4; // per transport
const SLOPE_TARGET = 1; // MB per minute, live heap
const SELECTORS = [undefined, 'flagSetId=shop'] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

const flagsDoc = (generation: number) => ({
  metadata: { flagSetId: 'shop' },
  flags: Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [
      `flag-${i}`,
      {
        state: 'ENABLED',
        variants: { on: true, off: false },
        defaultVariant: (i + generation) % 2 === 0 ? 'on' : 'off',
        targeting: { if: [{ '==': [{ var: 'ring' }, `ring-${generation % 7}`] }, 'on', null] },
      },
    ]),
  ),
});

const dir = mkdtempSync(join(tmpdir(), 'rampflag-soak-'));
const file = join(dir, 'flags.json');
writeFileSync(file, JSON.stringify(flagsDoc(0), null, 2));
const server = await MeasuredServe.start([file], smoke ? 250 : 1000);
const { management, http, sync } = server.ports;
const counts = { writes: 0, writesFailed: 0, grpcStreams: 0, sseStreams: 0, streamsWithoutData: 0 };
const end = Date.now() + durationMs;
const going = () => Date.now() < end;

/** An admin write: a one-flag PATCH, or every few a whole PUT. */
async function write(generation: number): Promise<void> {
  const put = generation % 5 === 0;
  const body = put
    ? flagsDoc(generation)
    : { flags: { [`flag-${generation % 40}`]: { defaultVariant: generation % 2 ? 'on' : 'off' } } };
  const response = await fetch(`http://127.0.0.1:${management}/admin/flags`, {
    method: put ? 'PUT' : 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).catch(() => undefined);
  await response?.text();
  if (response?.ok) counts.writes++;
  else counts.writesFailed++;
}

/** Opens a stream, waits for its first snapshot (at most 5 s), holds it 50–500 ms, closes it. */
async function churn(open: (got: () => void) => () => void): Promise<void> {
  let got!: () => void;
  const first = new Promise<boolean>((done) => {
    got = () => done(true);
    setTimeout(() => done(false), 5000);
  });
  const close = open(() => got());
  if (!(await first)) counts.streamsWithoutData++;
  await sleep(50 + Math.random() * 450);
  close();
}

const grpcClient = new grpc.Client(`127.0.0.1:${sync}`, grpc.credentials.createInsecure());
const openGrpc = (got: () => void) => {
  const metadata = new grpc.Metadata();
  const selector = pick(SELECTORS);
  if (selector !== undefined) metadata.set('flagd-selector', selector);
  const call = grpcClient.makeServerStreamRequest(
    '/flagd.sync.v1.FlagSyncService/SyncFlags',
    (message: Buffer) => message,
    (bytes: Buffer) => bytes,
    Buffer.alloc(0),
    metadata,
  );
  call.on('data', got);
  call.on('error', () => undefined); // CANCELLED, when we close it
  counts.grpcStreams++;
  return () => call.cancel();
};
const openSse = (got: () => void) => {
  const selector = pick(SELECTORS);
  const req = request({
    host: '127.0.0.1',
    port: http,
    path: '/sync/sse',
    agent: false,
    headers: selector === undefined ? {} : { 'flagd-selector': selector },
  });
  req.on('response', (res) => res.once('data', got));
  req.on('error', () => undefined);
  req.end();
  counts.sseStreams++;
  return () => req.destroy();
};

const gcSamples: MemorySample[] = [];
let finalStreams = NaN;
let settledMs = NaN;
try {
  await Promise.all([
    (async () => {
      for (let generation = 1; going(); generation++) {
        await write(generation);
        await sleep(100);
      }
    })(),
    ...Array.from({ length: STREAM_LOOPS }, async () => {
      while (going()) await churn(openGrpc);
    }),
    ...Array.from({ length: STREAM_LOOPS }, async () => {
      while (going()) await churn(openSse);
    }),
    (async () => {
      while (going()) {
        gcSamples.push(await server.collected());
        await sleep(gcEveryMs);
      }
    })(),
  ]);
  grpcClient.close();
  // every stream is closed: the gauge must come back to zero (within 10 s)
  const stopped = Date.now();
  do {
    finalStreams = await server.metric('rampflag_sync_streams');
    if (finalStreams === 0) break;
    await sleep(100);
  } while (Date.now() - stopped < 10_000);
  settledMs = Date.now() - stopped;
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** Least-squares slope of `value` over time, in MB per minute, after the first tenth (warm-up). */
function slope(samples: readonly MemorySample[], value: (s: MemorySample) => number): number {
  const t0 = samples[0]?.t ?? 0;
  const warm = samples.filter((s) => s.t - t0 >= durationMs / 10);
  const xs = warm.map((s) => (s.t - t0) / 60_000);
  const ys = warm.map((s) => mb(value(s)));
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

const first = gcSamples[0] as MemorySample;
const last = gcSamples.at(-1) as MemorySample;
const report = {
  minutes,
  ...counts,
  samples: gcSamples.length,
  heapMB: {
    first: mb(first.heapUsed),
    last: mb(last.heapUsed),
    slopePerMinute: slope(gcSamples, (s) => s.heapUsed),
  },
  rssMB: {
    first: mb(first.rss),
    last: mb(last.rss),
    slopePerMinute: slope(gcSamples, (s) => s.rss),
  },
  syncStreamsAtEnd: finalStreams,
  settledMs,
};
const flat = report.heapMB.slopePerMinute < SLOPE_TARGET;
const drained = finalStreams === 0;

if (args.includes('--json')) console.log(JSON.stringify(report));
else {
  const f = (n: number) => n.toFixed(2);
  console.log(
    `Soak: ${minutes.toFixed(2)} min; ${counts.writes} admin writes (${counts.writesFailed} failed), ${counts.grpcStreams} gRPC and ${counts.sseStreams} SSE streams opened and closed (${counts.streamsWithoutData} got no snapshot)`,
  );
  console.log(
    '| server memory | first MB | last MB | slope MB/min (least squares, after the first tenth) |',
  );
  console.log('|---|---:|---:|---:|');
  console.log(
    `| live heap (after GC) | ${f(report.heapMB.first)} | ${f(report.heapMB.last)} | ${f(report.heapMB.slopePerMinute)} |`,
  );
  console.log(
    `| RSS | ${f(report.rssMB.first)} | ${f(report.rssMB.last)} | ${f(report.rssMB.slopePerMinute)} |`,
  );
  const verdict = (ok: boolean) =>
    smoke ? (ok ? 'yes' : 'no (smoke: not judged)') : ok ? 'yes' : 'NO';
  console.log(`\nlive heap slope < ${SLOPE_TARGET} MB/min: ${verdict(flat)}`);
  console.log(
    `rampflag_sync_streams at the end: ${finalStreams} (${settledMs} ms after the churn stopped): ${drained ? 'yes' : 'NO'}`,
  );
}
process.exitCode = drained && (smoke || flat) ? 0 : 1;
