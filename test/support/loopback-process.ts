import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';
import { stopProcess } from './serve-process.js';

/** A program serving HTTP on a loopback port, as a child process with a temporary directory. */
export interface LoopbackProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly child: ChildProcess;
  /** What it logged (the last 64 KiB), for a failure message. */
  output(): string;
  /** Stops it (SIGTERM) and removes its directory. */
  stop(): Promise<void>;
}

/** How to start a {@link LoopbackProcess}. */
export interface LoopbackProgram {
  /** The binary. */
  readonly path: string;
  /** Its temporary directory (configuration, data), removed when it stops. */
  readonly dir: string;
  /** Its arguments to listen on 127.0.0.1:`port`. */
  args(port: number): string[];
  /** Whether it is ready at `url`: asked again every `pollMs` for 30 s. */
  ready(url: string): Promise<boolean>;
  readonly pollMs: number;
  /** What the error says when it does not become ready, before its output. */
  readonly failure: string;
}

/**
 * Starts `program` on a free loopback port (again, up to three times, when another process took
 * the port first) and resolves once it is ready; stops it and rejects with its output otherwise.
 */
export async function startOnFreePort(program: LoopbackProgram): Promise<LoopbackProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(program.path, program.args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-65_536);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      await stopProcess(child);
      rmSync(program.dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await program.ready(url)) return { url, child, output: () => output, stop };
      await sleep(program.pollMs);
    }
    if (child.exitCode !== null && attempt < 3 && /address already in use/.test(output)) continue;
    await stop();
    throw new Error(`${program.failure}: ${output.slice(-2000)}`);
  }
}
