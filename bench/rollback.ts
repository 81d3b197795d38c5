/**
 * The rollback benchmark: `rampflag serve` (the build, in a child process, with an admin token)
 * holds a flag that a real {@link RolloutController} has started and advanced to 50 %; `total`
 * providers in `procs` worker processes (bench/rollback-worker.ts) keep evaluating it for users
 * the flag buckets into the treatment. The controller then rolls back through the admin API
 * (`adminWriter`), and each provider's time from that decision until it first serves the safe
 * variant to every one of its users is measured; the rollout is started again for the next round.
 * Over gRPC sync and SSE (rampflag) and gRPC (@openfeature/flagd-provider, in-process).
 * Prints a markdown table, or one JSON object with `--json`; exits 1 if a provider never served
 * the safe variant.
 * `node --import tsx bench/rollback.ts [--smoke] [--providers 200] [--procs 4] [--rounds 5] [--poll 10] [--json]`
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type * as RolloutModule from '../src/rollout/index.js';
import type { FlagWriter } from '../src/rollout/index.js';
import { servePortArgs, startServe, stopProcess } from '../test/support/serve-process.js';
import { quantiles } from './quantiles.js';

const rolloutUrl = new URL('../dist/rollout.js', import.meta.url).href;
const { AuditLog, RolloutController, adminWriter, functionReader, parsePlan } = (await import(
  rolloutUrl
)) as typeof RolloutModule;

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
function option(name: string, full: number, small: number): number {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : smoke ? small : full;
}
const total = option('providers', 200, 20);
const procs = option('procs', 4, 2);
const rounds = option('rounds', 5, 1);
const USERS = 5; // treatment users per provider
const POLL_MS = option('poll', 10, 10); // how often each worker evaluates every user of every provider
const TOKEN = 'bench-admin-token';
const FLAG = 'checkout';
const now = () => performance.timeOrigin + performance.now();

const plan = parsePlan({
  flag: FLAG,
  treatment: 'on',
  control: 'off',
  steps: [10, 50, 100],
  hold: '10m',
  minSamples: 100,
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.002 }],
});
/** Healthy traffic: the same low error rate in both cohorts, plenty of it. */
const healthy = functionReader(() => {
  const counts = { errors: { bad: 100, total: 100_000 } };
  return { treatment: counts, control: counts };
});

/** The real admin writer, with the moments its GET ends and its PUT starts and ends (ms, our clock). */
function timedWriter(inner: FlagWriter) {
  const marks = { readEnd: NaN, putStart: NaN, putEnd: NaN };
  const writer: FlagWriter = {
    target: inner.target,
    async read() {
      const read = await inner.read();
      marks.readEnd = now();
      return read;
    },
    async write(configuration, version) {
      marks.putStart = now();
      const written = await inner.write(configuration, version);
      marks.putEnd = now();
      return written;
    },
  };
  return { writer, marks };
}

interface Message {
  type: string;
  round?: number;
  at?: number;
  t?: number;
  via?: 'event' | 'sweep' | Record<'event' | 'sweep', number>;
  message?: string;
  sweeps?: number;
  perSecond?: number;
}

/** A worker process and the messages it sent. */
class Worker {
  readonly inbox: Message[] = [];
  /** Its clock minus ours (ms), from the ping with the shortest round trip. */
  offset = 0;
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: Message) => this.inbox.push(m));
  }

  /** Waits for a message of `type` (taking it out of the inbox); fails after `ms`. */
  async next(type: string, ms: number): Promise<Message> {
    const end = Date.now() + ms;
    for (;;) {
      const failed = this.inbox.find((m) => m.type === 'error');
      if (failed) throw new Error(`worker ${this.child.pid}: ${failed.message}`);
      const at = this.inbox.findIndex((m) => m.type === type);
      if (at >= 0) return this.inbox.splice(at, 1)[0] as Message;
      if (this.child.exitCode !== null) throw new Error(`worker ${this.child.pid} exited`);
      if (Date.now() > end) throw new Error(`worker ${this.child.pid}: no ${type} in ${ms} ms`);
      await sleep(2);
    }
  }

  /** Takes up to `n` messages of `type` for `round`, waiting for them until `deadline` (epoch ms). */
  async collect(type: string, round: number, n: number, deadline: number): Promise<Message[]> {
    const taken: Message[] = [];
    for (;;) {
      for (let i = this.inbox.length - 1; i >= 0; i--) {
        const m = this.inbox[i] as Message;
        if (m.type === type && m.round === round) taken.push(...this.inbox.splice(i, 1));
      }
      if (taken.length >= n || Date.now() > deadline || this.child.exitCode !== null) return taken;
      await sleep(2);
    }
  }

  /** Estimates the clock offset: 20 pings, the one with the shortest round trip. */
  async calibrate(): Promise<{ offset: number; rtt: number }> {
    let best = { offset: 0, rtt: Infinity };
    for (let i = 0; i < 20; i++) {
      const t = now();
      this.child.send({ type: 'ping', t });
      const pong = await this.next('pong', 5_000);
      const back = now();
      if (back - t < best.rtt) best = { offset: (pong.at ?? 0) - (t + back) / 2, rtt: back - t };
    }
    this.offset = best.offset;
    return best;
  }
}

async function runKind(kind: 'grpc' | 'sse' | 'peer') {
  const dir = mkdtempSync(join(tmpdir(), 'rampflag-rollback-bench-'));
  const flagsPath = join(dir, 'flags.json');
  const flags = {
    [FLAG]: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
  };
  writeFileSync(flagsPath, `${JSON.stringify({ flags }, null, 2)}\n`);
  const serve = await startServe([flagsPath, ...servePortArgs()], {
    entry: 'dist',
    env: { ...process.env, RAMPFLAG_ADMIN_TOKEN: TOKEN },
  });
  const workers: Worker[] = [];
  try {
    let skew = 0; // the controller's clock runs ahead by whole holds, to pass them at once
    const clock = { now: () => Date.now() + skew };
    const admin = adminWriter(`http://127.0.0.1:${serve.ports.management}`, { token: TOKEN });
    const { writer, marks } = timedWriter(admin);
    const controller = new RolloutController({
      plan,
      writer,
      reader: healthy,
      audit: new AuditLog(join(dir, 'audit.jsonl'), { clock }),
      clock,
      actor: 'bench',
    });
    /** A fresh rollout at 50 %: started at 10 %, advanced once on healthy evidence. */
    const toHalf = async () => {
      const started = await controller.start();
      skew += 11 * 60_000;
      const advanced = await controller.step();
      if (advanced.action !== 'advance' || advanced.rollout.percent !== 50)
        throw new Error(`the rollout did not advance to 50 %: ${advanced.reason}`);
      return started.rollout.id;
    };
    await toHalf();

    const script = fileURLToPath(new URL('./rollback-worker.ts', import.meta.url));
    for (let p = 0; p < procs; p++) {
      const count = Math.floor(total / procs) + (p < total % procs ? 1 : 0);
      const { sync, http } = serve.ports;
      const params = [kind, count, sync, http, USERS, POLL_MS, FLAG, 'on', plan.safeVariant];
      workers.push(new Worker(fork(script, params.map(String), { execArgv: ['--import', 'tsx'] })));
    }
    for (const w of workers) await w.next('started', 120_000);
    const calibration = [];
    for (const w of workers) calibration.push(await w.calibrate());

    const latencies: number[] = [];
    const writes: number[] = [];
    const beforePut: number[] = []; // the controller's GET and audit append (fsync)
    const gets: number[] = [];
    const audits: number[] = []; // GET answered → PUT sent: the audit append, with its fsync
    const puts: number[] = [];
    const fromPut: number[] = []; // PUT sent → provider serves the safe variant
    const everyone: number[] = []; // per round: decision → the last provider serves the safe variant
    let missing = 0;
    for (let round = 1; round <= rounds; round++) {
      if (round > 1) await toHalf();
      for (const w of workers) w.child.send({ type: 'arm', round });
      for (const w of workers) await w.next('armed', 30_000);
      await sleep(300); // the load settles
      const decided = now(); // the decision to roll back is taken here
      const outcome = await controller.rollback('bench');
      writes.push(now() - decided);
      beforePut.push(marks.putStart - decided);
      gets.push(marks.readEnd - decided);
      audits.push(marks.putStart - marks.readEnd);
      puts.push(marks.putEnd - marks.putStart);
      if (!outcome.changed || outcome.rollout.status !== 'rolled-back')
        throw new Error(`rollback did not write: ${outcome.reason}`);
      const deadline = Date.now() + 25_000;
      const before = latencies.length;
      for (const [p, w] of workers.entries()) {
        const count = Math.floor(total / procs) + (p < total % procs ? 1 : 0);
        const safe = await w.collect('safe', round, count, deadline);
        missing += count - safe.length;
        for (const m of safe) {
          latencies.push((m.at ?? NaN) - w.offset - decided);
          fromPut.push((m.at ?? NaN) - w.offset - marks.putStart);
        }
      }
      everyone.push(Math.max(...latencies.slice(before)));
    }
    const via = { event: 0, sweep: 0 };
    let evaluations = 0;
    for (const w of workers) {
      w.child.send({ type: 'disarm' });
      const done = await w.next('disarmed', 10_000);
      const v = done.via as Record<'event' | 'sweep', number>;
      via.event += v.event;
      via.sweep += v.sweep;
      evaluations += done.perSecond ?? 0;
    }
    return {
      latency: quantiles(latencies),
      write: quantiles(writes),
      beforePut: quantiles(beforePut),
      get: quantiles(gets),
      audit: quantiles(audits),
      put: quantiles(puts),
      fromPut: quantiles(fromPut),
      everyone: quantiles(everyone),
      evaluationsPerSecond: evaluations,
      missing,
      via,
      clockOffsetMs: Math.max(...calibration.map((c) => Math.abs(c.offset))),
      calibrationRttMs: Math.max(...calibration.map((c) => c.rtt)),
    };
  } finally {
    for (const w of workers) w.child.send({ type: 'close' });
    await Promise.all(
      workers.map((w) =>
        Promise.race([
          new Promise((done) => w.child.once('exit', done)),
          sleep(10_000).then(() => w.child.kill('SIGKILL')),
        ]),
      ),
    );
    await stopProcess(serve.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = loadavg()[0] ?? NaN;
const kinds = smoke ? (['grpc', 'sse'] as const) : (['grpc', 'sse', 'peer'] as const);
const results: Record<string, Awaited<ReturnType<typeof runKind>>> = {};
for (const kind of kinds) results[kind] = await runKind(kind);
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${load.toFixed(2)} at the start`;

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
if (args.includes('--json'))
  console.log(JSON.stringify({ machine, total, procs, rounds, results }));
else {
  console.log(
    `Rollback: ${total} providers in ${procs} processes, ${rounds} rollback${rounds === 1 ? '' : 's'} through RolloutController + adminWriter; ms from the decision to each provider serving the safe variant to all ${USERS} of its treatment users${smoke ? ' (SMOKE run)' : ''}`,
  );
  console.log(`(${machine})`);
  console.log(
    `| transport | p50 | p99 | max | all ${total} safe, per round: median (worst) | from the PUT: p50 / p99 | decision → PUT sent | PUT | rollback() resolved | evaluations/s | seen by event / sweep |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const labels = {
    grpc: 'gRPC, rampflag',
    sse: 'SSE, rampflag',
    peer: 'gRPC, @openfeature/flagd-provider',
  };
  const pair = (q: { p50: number; max: number }) => `${fmt(q.p50)} (max ${fmt(q.max)})`;
  for (const kind of kinds) {
    const r = results[kind];
    if (r === undefined) continue;
    console.log(
      `| ${labels[kind]} | ${fmt(r.latency.p50)} | ${fmt(r.latency.p99)} | ${fmt(r.latency.max)} | ${fmt(r.everyone.p50)} (${fmt(r.everyone.max)}) | ${fmt(r.fromPut.p50)} / ${fmt(r.fromPut.p99)} | ${pair(r.beforePut)} | ${pair(r.put)} | ${pair(r.write)} | ${Math.round(r.evaluationsPerSecond).toLocaleString('en')} | ${r.via.event} / ${r.via.sweep} |`,
    );
  }
  for (const kind of kinds) {
    const r = results[kind];
    if (r === undefined) continue;
    console.log(
      `${labels[kind]}: decision → PUT sent = GET /admin/flags ${pair(r.get)} + audit append with fsync ${pair(r.audit)}`,
    );
  }
  const worst = Math.max(...Object.values(results).map((r) => r.clockOffsetMs));
  const rtt = Math.max(...Object.values(results).map((r) => r.calibrationRttMs));
  console.log(
    `Worker clocks (performance.timeOrigin + performance.now()) differed from the controller's by at most ${fmt(worst)} ms; corrected from the fastest of 20 IPC pings per worker (round trip at most ${fmt(rtt)} ms, so good to ±${fmt(rtt / 2)} ms).`,
  );
}
const missing = Object.values(results).reduce((n, r) => n + r.missing, 0);
if (missing > 0) {
  console.log(`${missing} provider-rounds never served the safe variant`);
  process.exitCode = 1;
}
