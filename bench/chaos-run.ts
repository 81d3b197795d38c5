/**
 * The chaos run: a `rampflag serve` child behind TCP fronts (test/support/tcp-front.ts), providers
 * evaluating through them without pause, and `cycles` faults in turn: a restart (SIGTERM, down,
 * start), a kill (SIGKILL, down, start) and a partition (the fronts carry nothing, then heal). The
 * flag changes while the server is down or cut off; each cycle waits for the change to arrive.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderEvents } from '@openfeature/server-sdk';
import type { FlagdProvider, SseFlagSource } from '../src/index.js';
import {
  servePortArgs,
  startServe,
  stopProcess,
  type ServeChild,
  type ServeEntry,
} from '../test/support/serve-process.js';
import { TcpFront } from '../test/support/tcp-front.js';
import { ChaosProbe, FLAG } from './chaos-probe.js';
import { quantiles } from './quantiles.js';

export type Fault = 'restart' | 'kill' | 'partition';
const FAULTS: readonly Fault[] = ['restart', 'kill', 'partition'];

export interface ChaosOptions {
  readonly cycles: number;
  /** `rampflag serve` from the build (benchmarks) or the sources (tests). */
  readonly entry: ServeEntry;
  /** Also an SSE provider beside the gRPC one. */
  readonly sse: boolean;
  /** How long the server stays down or cut off once the provider noticed. */
  readonly downMs: number;
  /** How long a cycle may take to bring the change; past it, the change counts as lost. */
  readonly recoverMs: number;
  readonly Provider: typeof FlagdProvider;
  readonly SseSource: typeof SseFlagSource;
  readonly log?: (line: string) => void;
}

export interface TransportReport {
  evaluations: number;
  failedEvaluations: number;
  failures: string[];
  stale: number;
  ready: number;
  errors: number;
  /** Cycles in which a STALE was followed by a READY. */
  staleThenReady: number;
  /** Cycles whose change had not arrived `recoverMs` after the server was back. */
  lostChanges: number;
  /** ms from the server being back (or the partition healed) to the new value being served. */
  recoveryMs: { p50: number; p99: number; max: number };
}

export interface ChaosReport {
  cycles: number;
  faults: Record<Fault, number>;
  seconds: number;
  transports: Record<string, TransportReport>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** The server, the fronts its clients connect through, and its flag file. */
class Subject {
  readonly dir = mkdtempSync(join(tmpdir(), 'rampflag-chaos-'));
  readonly file = join(this.dir, 'flags.json');
  server: ServeChild | undefined;

  constructor(
    readonly entry: ServeEntry,
    readonly grpc: TcpFront,
    readonly sse: TcpFront,
  ) {}

  /** Replaces the flag file at once (write, then rename), so the server never reads half of it. */
  write(value: string): void {
    const doc = {
      flags: { [FLAG]: { state: 'ENABLED', variants: { [value]: value }, defaultVariant: value } },
    };
    writeFileSync(`${this.file}.tmp`, JSON.stringify(doc));
    renameSync(`${this.file}.tmp`, this.file);
  }

  async start(): Promise<void> {
    this.server = await startServe([this.file, ...servePortArgs()], { entry: this.entry });
    this.grpc.up(this.server.ports.sync);
    this.sse.up(this.server.ports.http);
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.server !== undefined) await stopProcess(this.server.child, signal);
    this.server = undefined;
    this.grpc.down();
    this.sse.down();
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
    await Promise.all([this.grpc.close(), this.sse.close()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { Provider, SseSource, downMs, recoverMs, log = () => undefined } = options;
  const started = Date.now();
  const subject = new Subject(options.entry, await TcpFront.open(), await TcpFront.open());
  subject.write('v0');
  await subject.start();
  // Fast reconnects, a partition noticed by keepalive within ~0.5 s, and a grace period longer
  // than any outage here: every outage is STALE, then READY, never ERROR.
  const timing = { retryBackoffMs: 20, retryBackoffMaxMs: 100, retryGracePeriod: 600 };
  const probes = [
    await ChaosProbe.start(
      'grpc',
      new Provider({
        resolverType: 'in-process',
        host: '127.0.0.1',
        port: subject.grpc.port,
        keepAliveTime: 250,
        deadlineMs: 10_000,
        ...timing,
      }),
    ),
  ];
  if (options.sse)
    probes.push(
      await ChaosProbe.start(
        'sse',
        new Provider({
          source: new SseSource(`http://127.0.0.1:${subject.sse.port}/sync/sse`, timing),
          deadlineMs: 10_000,
        }),
      ),
    );
  for (const probe of probes) probe.run();

  const faults: Record<Fault, number> = { restart: 0, kill: 0, partition: 0 };
  const perProbe = new Map(
    probes.map((p) => [p, { staleThenReady: 0, lost: 0, recovery: [] as number[] }]),
  );
  const grpc = probes[0] as ChaosProbe;
  try {
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const fault = FAULTS[(cycle - 1) % FAULTS.length] as Fault;
      faults[fault]++;
      const value = `v${cycle}`;
      const since = Date.now();
      if (fault === 'partition') {
        subject.grpc.partition();
        subject.sse.partition();
        subject.write(value); // the server has it; the clients cannot hear it
      } else {
        await subject.stop(fault === 'restart' ? 'SIGTERM' : 'SIGKILL');
        subject.write(value); // edited while the server is down
      }
      // the gRPC provider notices (a closed stream, or keepalive for a partition), then a pause
      await until(() => grpc.count(ProviderEvents.Stale, since) > 0, recoverMs);
      await sleep(downMs);
      if (fault === 'partition') {
        subject.grpc.heal();
        subject.sse.heal();
      } else await subject.start();
      const back = Date.now();
      await Promise.all(
        probes.map(async (probe) => {
          const tally = perProbe.get(probe) as {
            staleThenReady: number;
            lost: number;
            recovery: number[];
          };
          const arrived = await until(
            () => probe.value === value && probe.staleThenReady(since),
            recoverMs,
          );
          if (arrived) tally.recovery.push(Date.now() - back);
          else tally.lost += probe.value === value ? 0 : 1;
          if (probe.staleThenReady(since)) tally.staleThenReady++;
        }),
      );
      log(
        `cycle ${cycle} ${fault}: ${probes.map((p) => `${p.name} ${p.value}, ${p.evaluations} evals, ${p.failed} failed`).join('; ')}`,
      );
    }
  } finally {
    await Promise.all(probes.map((probe) => probe.stop()));
    await subject.close();
  }
  const transports: Record<string, TransportReport> = {};
  for (const probe of probes) {
    const tally = perProbe.get(probe) as {
      staleThenReady: number;
      lost: number;
      recovery: number[];
    };
    transports[probe.name] = {
      evaluations: probe.evaluations,
      failedEvaluations: probe.failed,
      failures: probe.failures,
      stale: probe.count(ProviderEvents.Stale, 0),
      ready: probe.count(ProviderEvents.Ready, 0),
      errors: probe.count(ProviderEvents.Error, 0),
      staleThenReady: tally.staleThenReady,
      lostChanges: tally.lost,
      recoveryMs: quantiles(tally.recovery),
    };
  }
  return { cycles: options.cycles, faults, seconds: (Date.now() - started) / 1000, transports };
}
