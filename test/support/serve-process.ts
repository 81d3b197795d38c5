import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const REPO = resolve('.');

/**
 * Starts `rampflag serve` (from the sources, through tsx) as a child process in `cwd`, which needs
 * a `node_modules` (a link to the repository's will do); resolves once it says it is serving.
 */
export async function spawnServe(
  args: readonly string[],
  cwd: string = REPO,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'serve', ...args],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((ready, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('rampflag serving')) ready();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`rampflag serve exited ${code}: ${output}`)));
  });
  return child;
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
