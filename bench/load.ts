/**
 * The load benchmark: autocannon (in this process) against `rampflag serve` (the build, in a child
 * process): the evaluation API and OFREP at 50 connections, clean and then again under a selector
 * flood from a third process (bench/load-flood.ts). Reports requests/s, p50 and p99, and the
 * server's memory before, during and after the flood (live heap after a full GC, and RSS).
 * `node --import tsx bench/load.ts [--smoke] [--seconds 10] [--json]`; exits 1 if a target fails.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { MeasuredServe, mb, type MemorySample } from './measured-serve.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const secondsAt = args.indexOf('--seconds');
const seconds = secondsAt >= 0 ? Number(args[secondsAt + 1]) : smoke ? 1.5 : 10;
const CONNECTIONS = 50;
/** A live heap that grew less than this under the flood counts as flat (GC and JIT noise). */
const FLAT_MB = 16;

const FLAGS = {
  metadata: { flagSetId: 'shop' },
  flags: {
    checkout: {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ in: [{ var: 'ring' }, ['internal', 'beta']] }, 'on', null] },
    },
    banner: { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'a' },
  },
};
const context = { targetingKey: 'user-42', ring: 'internal', country: 'de' };

interface CaseResult {
  name: string;
  flood: boolean;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function hit(name: string, url: string, body: unknown, flood: boolean): Promise<CaseResult> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    name,
    flood,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'rampflag-load-'));
const file = join(dir, 'flags.json');
writeFileSync(file, JSON.stringify(FLAGS, null, 2));
const server = await MeasuredServe.start([file]);
const { http, ofrep, sync } = server.ports;
const cases = (flood: boolean) => [
  () =>
    hit(
      'evaluation API ResolveBoolean',
      `http://127.0.0.1:${http}/flagd.evaluation.v1.Service/ResolveBoolean`,
      { flagKey: 'checkout', context },
      flood,
    ),
  () =>
    hit(
      'OFREP evaluate flag',
      `http://127.0.0.1:${ofrep}/ofrep/v1/evaluate/flags/checkout`,
      { context },
      flood,
    ),
];

const results: CaseResult[] = [];
let flood: {
  evaluation: number;
  ofrep: number;
  sse: number;
  fetchAll: number;
  failed: number;
  seconds: number;
};
const memory: Record<'before' | 'afterClean' | 'afterFlood', MemorySample> = {} as never;
let duringFlood: MemorySample[];
try {
  // warm up the JIT and the server's caches, then the baseline
  await autocannon({
    url: `http://127.0.0.1:${ofrep}/ofrep/v1/evaluate/flags/checkout`,
    connections: 10,
    duration: 1,
    method: 'POST',
    body: JSON.stringify({ context }),
  });
  memory.before = await server.collected();
  for (const run of cases(false)) results.push(await run());
  memory.afterClean = await server.collected();

  const worker = fork(
    fileURLToPath(new URL('./load-flood.ts', import.meta.url)),
    [String(http), String(ofrep), String(sync)],
    { execArgv: ['--import', 'tsx'] },
  );
  await new Promise<void>((done) => worker.once('message', () => done()));
  const floodStart = Date.now();
  for (const run of cases(true)) results.push(await run());
  duringFlood = server.samples().filter((s) => !s.gc && s.t >= floodStart);
  flood = await new Promise((done) => {
    worker.once('message', done);
    worker.send('stop');
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  memory.afterFlood = await server.collected();
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

const peak = (key: 'rss' | 'heapUsed') => Math.max(...duringFlood.map((s) => s[key]));
const heapGrowth = mb(memory.afterFlood.heapUsed - memory.afterClean.heapUsed);
const p99Ratio = (name: string) => {
  const clean = results.find((r) => r.name === name && !r.flood) as CaseResult;
  const flooded = results.find((r) => r.name === name && r.flood) as CaseResult;
  return flooded.p99 / clean.p99;
};
const floodTotal = flood.evaluation + flood.ofrep + flood.sse + flood.fetchAll;
const report = {
  seconds,
  connections: CONNECTIONS,
  results,
  flood: { ...flood, total: floodTotal, perSecond: floodTotal / flood.seconds },
  memoryMB: {
    before: { heap: mb(memory.before.heapUsed), rss: mb(memory.before.rss) },
    afterClean: { heap: mb(memory.afterClean.heapUsed), rss: mb(memory.afterClean.rss) },
    duringFloodPeak: { heap: mb(peak('heapUsed')), rss: mb(peak('rss')) },
    afterFlood: { heap: mb(memory.afterFlood.heapUsed), rss: mb(memory.afterFlood.rss) },
  },
  heapGrowthMB: heapGrowth,
  p99Ratio: Object.fromEntries(
    results.filter((r) => !r.flood).map((r) => [r.name, p99Ratio(r.name)]),
  ),
};
const memoryFlat = heapGrowth < FLAT_MB;
const p99Held = Object.values(report.p99Ratio).every((ratio) => ratio <= 2);
const clean = results.every((r) => r.errors === 0 && r.non2xx === 0);

if (args.includes('--json')) console.log(JSON.stringify(report));
else {
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  console.log(
    `Load: ${CONNECTIONS} connections, ${seconds} s per case, rampflag serve in a child process`,
  );
  console.log('| case | flood | requests/s | p50 ms | p99 ms | errors | non-2xx |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.flood ? 'yes' : 'no'} | ${f(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`,
    );
  console.log(
    `\nSelector flood: ${floodTotal} requests with unique selectors (${flood.evaluation} evaluation API, ${flood.ofrep} OFREP, ${flood.sse} SSE, ${flood.fetchAll} FetchAllFlags; ${f(report.flood.perSecond)}/s, ${flood.failed} failed)`,
  );
  const m = report.memoryMB;
  console.log('| server memory, MB | before | after clean runs | flood peak | after flood |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(
    `| live heap (after GC; peak: heapUsed) | ${f(m.before.heap)} | ${f(m.afterClean.heap)} | ${f(m.duringFloodPeak.heap)} | ${f(m.afterFlood.heap)} |`,
  );
  console.log(
    `| RSS | ${f(m.before.rss)} | ${f(m.afterClean.rss)} | ${f(m.duringFloodPeak.rss)} | ${f(m.afterFlood.rss)} |`,
  );
  const verdict = (ok: boolean) => (smoke ? '–' : ok ? 'yes' : 'NO');
  console.log(
    `\nlive heap growth under the flood: ${f(heapGrowth)} MB (target < ${FLAT_MB} MB): ${verdict(memoryFlat)}`,
  );
  for (const [name, ratio] of Object.entries(report.p99Ratio))
    console.log(
      `p99 under flood / clean, ${name}: ${ratio.toFixed(2)}× (target ≤ 2×): ${verdict(ratio <= 2)}`,
    );
}
if (!smoke) process.exitCode = memoryFlat && p99Held && clean ? 0 : 1;
