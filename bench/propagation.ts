/**
 * The propagation benchmark: one FlagServer, `total` providers in `procs` processes, a flag change;
 * the time from the change until each provider emitted CONFIGURATION_CHANGED, over gRPC (rampflag
 * and @openfeature/flagd-provider) and SSE. Then the server restarts under them and the spread of
 * their reconnections is reported. Prints one JSON object.
 * `node --import tsx bench/propagation.ts <total> <procs> <rounds>`
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FlagServer, InMemoryFlagSource } from './subject.js';
import { quantiles } from './quantiles.js';

const [totalText, procsText, roundsText] = process.argv.slice(2);
const total = Number(totalText ?? 200);
const procs = Number(procsText ?? 4);
const rounds = Number(roundsText ?? 5);
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Event {
  type: string;
  at: number;
}

/** Waits until `events` holds `n` events of `type`; fails after `ms`. */
async function collect(events: Event[], type: string, n: number, ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  for (;;) {
    const found = events.filter((e) => e.type === type).map((e) => e.at);
    if (found.length >= n) return found;
    if (Date.now() > end)
      throw new Error(`only ${found.length} of ${n} ${type} events within ${ms} ms`);
    await sleep(5);
  }
}

async function runKind(kind: 'grpc' | 'sse' | 'peer') {
  const source = new InMemoryFlagSource({
    banner: { variants: { v0: 'v0' }, defaultVariant: 'v0' },
  });
  const options = { source, syncPort: 0, httpPort: 0, managementPort: null, ofrepPort: null };
  let server = new FlagServer(options);
  const { syncPort, httpPort } = await server.start();
  const events: Event[] = [];
  const workers: ChildProcess[] = [];
  const worker = fileURLToPath(new URL('./propagation-worker.ts', import.meta.url));
  for (let p = 0; p < procs; p++) {
    const count = Math.floor(total / procs) + (p < total % procs ? 1 : 0);
    const child = fork(worker, [kind, String(count), String(syncPort), String(httpPort)], {
      execArgv: ['--import', 'tsx'],
    });
    child.on('message', (message: Event) => events.push(message));
    workers.push(child);
  }
  await collect(events, 'started', procs, 60_000);

  const latencies: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    events.length = 0;
    await sleep(200);
    const start = now();
    source.setValue('banner', `v${round}`);
    for (const at of await collect(events, 'changed', total, 10_000)) latencies.push(at - start);
  }

  // Restart: the server stops (streams end, providers go STALE), and comes back 1 s later.
  events.length = 0;
  await server.stop();
  await sleep(1000);
  server = new FlagServer({ ...options, syncPort, httpPort });
  await server.start();
  const restarted = now();
  const reconnects = (await collect(events, 'ready', total, 60_000)).map((at) => at - restarted);
  const perWindow = new Map<number, number>();
  for (const at of reconnects)
    perWindow.set(Math.floor(at / 100), (perWindow.get(Math.floor(at / 100)) ?? 0) + 1);

  for (const child of workers) child.send({ type: 'close' });
  await Promise.all(workers.map((child) => new Promise((done) => child.once('exit', done))));
  await server.stop();
  return {
    propagation: quantiles(latencies),
    reconnect: { ...quantiles(reconnects), busiest100ms: Math.max(...perWindow.values()) },
  };
}

const result: Record<string, unknown> = {};
for (const kind of ['grpc', 'sse', 'peer'] as const) result[kind] = await runKind(kind);
console.log(JSON.stringify(result));
