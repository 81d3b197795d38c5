import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO = resolve('.');

/** The ports a `rampflag serve` process bound, as its start-up line reports them (NaN: not served). */
export interface ServePorts {
  readonly sync: number;
  readonly http: number;
  readonly management: number;
  readonly ofrep: number;
}

/** A running `rampflag serve` child and the ports it bound. */
export interface ServeChild {
  readonly child: ChildProcess;
  readonly ports: ServePorts;
}

/** Where `rampflag serve` comes from: the sources through tsx (tests), or the build (benchmarks). */
export type ServeEntry = 'source' | 'dist';

const BANNER =
  /rampflag serving .*?: sync \(gRPC\) \S+:(\d+), evaluation API and SSE \S+:(\d+|undefined), management \S+:(\d+|undefined), OFREP \S+:(\d+|undefined)/;

/** The ports of a `rampflag serve` start-up line, or `undefined` before it was printed whole. */
export function parseServeBanner(output: string): ServePorts | undefined {
  const match = BANNER.exec(output);
  if (match === null) return undefined;
  const [sync, http, management, ofrep] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  return { sync, http, management, ofrep };
}

/**
 * Starts `rampflag serve` as a child process in `cwd`, which needs a `node_modules` (a link to the
 * repository's will do); resolves with the ports it bound once it says it is serving, or rejects
 * with its output if it exits first or stays silent for `timeoutMs`.
 */
export async function startServe(
  args: readonly string[],
  options: {
    cwd?: string;
    entry?: ServeEntry;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    /** Node's own arguments (a preload, say), before the entry. */
    nodeArgs?: readonly string[];
  } = {},
): Promise<ServeChild> {
  const { cwd = REPO, entry = 'source', timeoutMs = 30_000, env = process.env } = options;
  const { nodeArgs = [] } = options;
  const command =
    entry === 'dist'
      ? [join(REPO, 'dist/cli.js')]
      : ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];
  const child = spawn(process.execPath, [...nodeArgs, ...command, 'serve', ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ports = await new Promise<ServePorts>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`rampflag serve said nothing within ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = parseServeBanner(output);
      if (found === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      ready(found);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`rampflag serve exited ${code}: ${output}`));
    });
  });
  // keep draining its output, so a chatty server never blocks on a full pipe
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, ports };
}

/**
 * Starts `rampflag serve` (from the sources, through tsx) as a child process in `cwd`, which needs
 * a `node_modules` (a link to the repository's will do); resolves once it says it is serving.
 */
export async function spawnServe(
  args: readonly string[],
  cwd: string = REPO,
): Promise<ChildProcess> {
  return (await startServe(args, { cwd })).child;
}

/** Stops a child with `signal` and waits for it to exit. */
export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill(signal);
  await exited;
}

/** `rampflag serve` port arguments: the sync port given, every other listener on a free port. */
export const servePortArgs = (syncPort = 0): string[] => [
  ...['--sync-port', String(syncPort), '--http-port', '0'],
  ...['--management-port', '0', '--ofrep-port', '0'],
];
