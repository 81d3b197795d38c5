/**
 * `npm run bench`: rampflag's evaluator against @openfeature/flagd-core 4.x, both in one process per
 * case (evaluation cases, load cases and heap each run in child processes of their own).
 * `npm run bench -- --smoke` runs every case briefly and judges no figure (CI); it still fails if
 * the chaos run loses an evaluation or a change, or the soak leaves a stream counted.
 */
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const smoke = process.argv.includes('--smoke');
const ITER = smoke ? 2_000 : 200_000;
const FLAG_COUNT = smoke ? 500 : 10_000;

interface Row {
  case: string;
  unit: string;
  ours: number;
  peer: number;
  /** How many times better rampflag is (peer / ours, or ours-per-peer for throughput). */
  ratio: number;
  target: string;
  met: boolean;
}
const rows: Row[] = [];

/** Runs a bench script in a process of its own and returns what it printed, trimmed. */
const child = (script: string, args: string[], flags: string[] = []): string =>
  execFileSync(
    process.execPath,
    [...flags, '--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args],
    {
      encoding: 'utf8',
    },
  ).trim();

function evalCase(name: string, label: string, target: number) {
  const { ours, peer } = JSON.parse(child('./eval-case.ts', [name, String(ITER)])) as {
    ours: number;
    peer: number;
  };
  const ratio = peer / ours;
  rows.push({
    case: label,
    unit: 'ns/eval',
    ours,
    peer,
    ratio,
    target: `≥ ${target}× throughput`,
    met: ratio >= target,
  });
}

evalCase('static', 'static boolean flag', 2);
evalCase('ring', 'ring rule, 10,000 users', 5);
evalCase('fractional', '4-variant fractional', 5);
evalCase('semver', 'sem_ver rule', 5);
evalCase('compound', 'compound rule (and of ==, >, <, starts_with; then fractional)', 5);

/** `client.getBooleanValue` through the SDK: rampflag against flagd-provider, judged against the no-op floor. */
function providerCase(name: string, label: string) {
  const { floor, ours, peer } = JSON.parse(
    child('./provider-case.ts', [name, String(smoke ? 200 : 20_000)]),
  ) as Record<'floor' | 'ours' | 'peer', number>;
  const over = (100 * (ours - floor)) / floor;
  rows.push({
    case: `${label} (no-op floor ${(floor / 1000).toFixed(2)} µs; rampflag ${over >= 0 ? '+' : '−'}${Math.abs(over).toFixed(1)} %)`,
    unit: 'µs/eval',
    ours: ours / 1000,
    peer: peer / 1000,
    ratio: peer / ours,
    target: '≤ 5 % over the floor',
    met: ours <= floor * 1.05,
  });
}

providerCase('static', 'client.getBooleanValue, static flag');
providerCase('ring', 'client.getBooleanValue, ring rule');

// The span hook's cost per evaluation, over the SDK's cost of running any hook.
{
  const r = JSON.parse(child('./otel-case.ts', [String(smoke ? 200 : 20_000)])) as Record<
    string,
    number
  >;
  const costRow = (label: string, hook: number, empty: number) =>
    rows.push({
      case: `${label} (SDK with an empty hook ${(empty / 1000).toFixed(2)} µs, no hook ${((r['plain'] ?? 0) / 1000).toFixed(2)} µs)`,
      unit: 'µs/eval',
      ours: hook / 1000,
      peer: empty / 1000,
      ratio: empty / hook,
      target: `(reported) +${((hook - empty) / 1000).toFixed(2)} µs`,
      met: true,
    });
  costRow('span hook, no active span', r['hookNoSpan'] ?? 0, r['emptyNoSpan'] ?? 0);
  costRow('span hook, recording span', r['hookInSpan'] ?? 0, r['emptyInSpan'] ?? 0);
}

// Loading FLAG_COUNT generated rule flags, in a process of its own (see bench/load-case.ts).
const repeat = smoke ? 2 : 7;
const loads = JSON.parse(child('./load-case.ts', [String(FLAG_COUNT), String(repeat)])) as Record<
  'first' | 'resend' | 'changed',
  { ours: number; peer: number }
>;
const load = (
  name: string,
  target: string,
  judge: (ours: number, peer: number) => boolean,
  { ours, peer }: { ours: number; peer: number },
) =>
  rows.push({
    case: name,
    unit: 'ms',
    ours,
    peer,
    ratio: peer / ours,
    target,
    met: judge(ours, peer),
  });

load(`first load, ${FLAG_COUNT} rule flags`, '≥ 20× faster', (o, p) => p / o >= 20, loads.first);
load('identical re-send', '< 5 ms', (o) => o < 5, loads.resend);
load('one flag changed', '(reported)', () => true, loads.changed);
// Each side's heap in a process of its own, so neither side's garbage or code skews the other.
const heapOf = (side: string): number =>
  Number(
    execFileSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        fileURLToPath(new URL('./heap.ts', import.meta.url)),
        side,
        String(FLAG_COUNT),
      ],
      {
        encoding: 'utf8',
      },
    ).trim(),
  );
const heapOurs = heapOf('rampflag');
const heapPeer = heapOf('flagd-core');
rows.push({
  case: `heap, ${FLAG_COUNT} rule flags`,
  unit: 'MiB',
  ours: heapOurs,
  peer: heapPeer,
  ratio: heapPeer / heapOurs,
  target: '≤ ½ of peer',
  met: heapOurs * 2 <= heapPeer,
});

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `rampflag evaluator vs @openfeature/flagd-core (compiled mode), ${smoke ? 'SMOKE run, not judged' : 'full run'}`,
);
console.log(
  `machine: ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`,
);
const fmt = (n: number) =>
  Number.isNaN(n) ? 'n/a' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
console.log('| case | unit | rampflag | peer | ratio | target | met |');
console.log('|---|---|---:|---:|---:|---|---|');
for (const r of rows) {
  const met = smoke ? '–' : r.met ? 'yes' : 'NO';
  console.log(
    `| ${r.case} | ${r.unit} | ${fmt(r.ours)} | ${fmt(r.peer)} | ${fmt(r.ratio)}× | ${r.target} | ${met} |`,
  );
}
if (!smoke) {
  for (const r of rows.filter((row) => row.unit === 'ns/eval')) {
    console.log(
      `${r.case}: rampflag ${fmt(1e9 / r.ours)} evals/s, flagd-core ${fmt(1e9 / r.peer)} evals/s`,
    );
  }
}

// Propagation: one server, many providers in several processes, a flag change (bench/propagation.ts).
{
  const [total, procs, roundCount] = smoke ? [20, 2, 1] : [200, 4, 5];
  const r = JSON.parse(
    child('./propagation.ts', [String(total), String(procs), String(roundCount)]),
  ) as Record<
    'grpc' | 'sse' | 'peer',
    {
      propagation: Record<'n' | 'p50' | 'p99' | 'max', number>;
      reconnect: Record<'n' | 'p50' | 'p99' | 'max' | 'busiest100ms', number>;
    }
  >;
  console.log(
    `\nPropagation: ${total} providers in ${procs} processes, ${roundCount} flag changes; ms from the change to each provider's CONFIGURATION_CHANGED`,
  );
  console.log('| transport | p50 | p99 | max | p99 vs flagd-provider | target | met |');
  console.log('|---|---:|---:|---:|---:|---|---|');
  const peerP99 = r.peer.propagation.p99;
  for (const [label, side] of [
    ['gRPC, rampflag', r.grpc],
    ['SSE, rampflag', r.sse],
    ['gRPC, @openfeature/flagd-provider', r.peer],
  ] as const) {
    const { p50, p99, max } = side.propagation;
    const met = smoke ? '–' : p99 < 50 ? 'yes' : 'NO';
    console.log(
      `| ${label} | ${fmt(p50)} | ${fmt(p99)} | ${fmt(max)} | ${fmt(peerP99 / p99)}× | p99 < 50 ms | ${met} |`,
    );
  }
  console.log(
    `\nReconnect spread: the server stops (streams end UNAVAILABLE), is down 1 s, restarts; ms from the restart to each provider's READY`,
  );
  console.log('| transport | p50 | p99 | max | most READY in one 100 ms window |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [label, side] of [
    ['gRPC, rampflag', r.grpc],
    ['SSE, rampflag', r.sse],
    ['gRPC, @openfeature/flagd-provider', r.peer],
  ] as const) {
    const { p50, p99, max, busiest100ms } = side.reconnect;
    console.log(
      `| ${label} | ${fmt(p50)} | ${fmt(p99)} | ${fmt(max)} | ${busiest100ms} of ${total} |`,
    );
  }
}

// Robustness: chaos (restart, kill, partition under evaluation), load with a selector flood, the
// time from a rollback decision to every provider serving the safe variant (bench/rollback.ts),
// from an alert firing in Prometheus to every provider serving it (bench/alert-loop.ts, with the
// real Prometheus and Alertmanager), the experiment statistics' simulations (A/A peeking, power at
// the planned n, lift coverage; bench/experiment-sim.ts), and (smoke only; the ten-minute run is
// `npx tsx bench/soak.ts`) a soak. Each prints its own tables.
{
  const robustness: [string, string[]][] = [
    ['./chaos.ts', smoke ? ['--smoke'] : []],
    ['./load.ts', smoke ? ['--smoke'] : []],
    ['./rollback.ts', smoke ? ['--smoke'] : []],
    ['./alert-loop.ts', smoke ? ['--smoke'] : []],
    ['./experiment-sim.ts', smoke ? ['--smoke'] : []],
    ...(smoke ? [['./soak.ts', ['--smoke']] as [string, string[]]] : []),
  ];
  for (const [script, args] of robustness) {
    let output: string;
    try {
      output = child(script, args);
    } catch (error) {
      // a target missed: the bench prints its tables all the same, and exits 1
      output = String((error as { stdout?: unknown }).stdout ?? error).trim();
      process.exitCode = 1;
    }
    console.log(`\n${output}`);
  }
}
