/**
 * `rampflag serve` (the build) in a child process whose memory the benchmark can read: a preload
 * (bench/serve-memory.mjs) samples `process.memoryUsage()` into a file, and on request after a
 * full GC; `/metrics` on the management port gives the server's own gauges.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  servePortArgs,
  startServe,
  stopProcess,
  type ServeChild,
} from '../test/support/serve-process.js';

export interface MemorySample {
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly gc: boolean;
}

const MB = 1024 * 1024;
export const mb = (bytes: number) => bytes / MB;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let serial = 0;

export class MeasuredServe {
  private constructor(
    readonly serve: ServeChild,
    readonly memoryFile: string,
  ) {}

  static async start(args: readonly string[], sampleMs = 250): Promise<MeasuredServe> {
    const memoryFile = join(tmpdir(), `rampflag-memory-${process.pid}-${++serial}.jsonl`);
    rmSync(memoryFile, { force: true });
    const preload = fileURLToPath(new URL('./serve-memory.mjs', import.meta.url));
    const serve = await startServe([...args, ...servePortArgs()], {
      entry: 'dist',
      nodeArgs: ['--import', preload],
      env: {
        ...process.env,
        RAMPFLAG_BENCH_MEMORY_FILE: memoryFile,
        RAMPFLAG_BENCH_MEMORY_MS: String(sampleMs),
      },
    });
    return new MeasuredServe(serve, memoryFile);
  }

  get ports() {
    return this.serve.ports;
  }

  /** Every sample so far, oldest first. */
  samples(): MemorySample[] {
    let text = '';
    try {
      text = readFileSync(this.memoryFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as MemorySample);
  }

  /** A sample taken right after a full GC in the server: what it really holds. */
  async collected(): Promise<MemorySample> {
    const before = this.samples().filter((s) => s.gc).length;
    this.serve.child.kill('SIGUSR2');
    for (let i = 0; i < 200; i++) {
      const found = this.samples().filter((s) => s.gc);
      if (found.length > before) return found.at(-1) as MemorySample;
      await sleep(25);
    }
    throw new Error('the server did not report its memory after a GC within 5 s');
  }

  /** The value of a `/metrics` series (the sum over its labels), or NaN if absent. */
  async metric(name: string): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${this.ports.management}/metrics`);
    const text = await response.text();
    const values = text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
    return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    await stopProcess(this.serve.child);
    rmSync(this.memoryFile, { force: true });
  }
}
