import type { ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import {
  connect as connectH2c,
  createServer as createH2cServer,
  type Http2Server,
} from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { servePortArgs, spawnServe, stopProcess } from './serve-process.js';
import { mergedTestbedFlags } from './testbed.js';

/** The launchpad configurations of the flagd testbed, plus `socket` (default, on a unix socket). */
export type LaunchpadConfig = 'default' | 'ssl' | 'metadata' | 'sync-payload' | 'socket';

export const TLS_DIR = resolve('test/fixtures/tls');
const REPO = resolve('.');

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The `rampflag serve` arguments that re-create one of the testbed's launchpad configs. */
function argsFor(config: LaunchpadConfig, dir: string): string[] {
  if (config === 'metadata') return ['rawflags/selector-flag-combined-metadata.json'];
  const args = [
    'flags/allFlags.json',
    'rawflags/selector-flags.json',
    '-X',
    'injectedmetadata=set',
  ];
  if (config === 'sync-payload') args.push('--disable-sync-metadata');
  if (config === 'ssl')
    args.push(
      ...['--server-cert-path', join(TLS_DIR, 'server-cert.pem')],
      ...['--server-key-path', join(TLS_DIR, 'server-key.pem')],
    );
  if (config === 'socket') args.push('--sync-socket-path', join(dir, 'flagd.sock'));
  return args;
}

/**
 * The flagd testbed's launchpad, re-created around `rampflag serve`: a directory laid out as the
 * testbed container's (`flags/allFlags.json` deep-merged as launchpad merges it, `rawflags/` the
 * raw files), one `rampflag serve` process per config on fixed ports, and launchpad's actions:
 * losing the connection for N seconds (the process stops, and starts again N seconds later) and
 * modifying `changing-flag`.
 */
export class Launchpad {
  readonly dir = mkdtempSync(join(tmpdir(), 'rampflag-launchpad-'));
  readonly #running = new Map<LaunchpadConfig, { child: ChildProcess; port: number }>();
  readonly #ports = new Map<LaunchpadConfig, number>();
  readonly #restarts = new Set<Promise<void>>();
  #forbidden: Http2Server | undefined;
  #envoy: Http2Server | undefined;

  constructor(testbedDir: string) {
    mkdirSync(join(this.dir, 'flags'));
    mkdirSync(join(this.dir, 'rawflags'));
    writeFileSync(
      join(this.dir, 'flags', 'allFlags.json'),
      JSON.stringify(mergedTestbedFlags(testbedDir)),
    );
    for (const name of ['selector-flags.json', 'selector-flag-combined-metadata.json'])
      copyFileSync(join(testbedDir, 'flags', name), join(this.dir, 'rawflags', name));
    symlinkSync(join(REPO, 'node_modules'), join(this.dir, 'node_modules'));
  }

  /** The sync port of a config's server, started on first use. */
  async port(config: LaunchpadConfig): Promise<number> {
    const running = this.#running.get(config);
    if (running !== undefined) return running.port;
    let port = this.#ports.get(config);
    if (port === undefined) {
      port = await freePort();
      this.#ports.set(config, port);
    }
    await this.#spawn(config, port);
    return port;
  }

  get socketPath(): string {
    return join(this.dir, 'flagd.sock');
  }

  /** "the connection is lost for Ns": every server stops now and starts again `seconds` later. */
  async loseConnection(seconds: number): Promise<void> {
    const stopped = [...this.#running.entries()];
    await Promise.all(stopped.map(([config]) => this.#kill(config)));
    const restart = new Promise<void>((done) => setTimeout(done, seconds * 1000)).then(() =>
      Promise.all(stopped.map(([config, { port }]) => this.#spawn(config, port))).then(() => {}),
    );
    this.#restarts.add(restart);
    void restart.finally(() => this.#restarts.delete(restart));
  }

  /** "the flag was modified": toggles `changing-flag` between foo and bar, replacing the file atomically. */
  modifyChangingFlag(): void {
    const file = join(this.dir, 'flags', 'allFlags.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      flags: Record<string, { defaultVariant: string }>;
    };
    const flag = doc.flags['changing-flag'] as { defaultVariant: string };
    flag.defaultVariant = flag.defaultVariant === 'foo' ? 'bar' : 'foo';
    writeFileSync(`${file}.tmp`, JSON.stringify(doc));
    renameSync(`${file}.tmp`, file);
  }

  /** The testbed's `forbidden` endpoint: envoy answering HTTP 403 to every request. */
  async forbiddenPort(): Promise<number> {
    if (this.#forbidden === undefined) {
      const server = createH2cServer((_req, res) => res.writeHead(403).end());
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      this.#forbidden = server;
    }
    return (this.#forbidden.address() as { port: number }).port;
  }

  /**
   * The testbed's envoy on 9211: an HTTP/2 proxy that routes by `:authority`. `sync.service` goes
   * to the default config's sync port; any other authority gets 404. Headers, body and trailers are
   * relayed as they come, so a gRPC stream passes through whole.
   */
  async envoyPort(): Promise<number> {
    if (this.#envoy === undefined) {
      const server = createH2cServer();
      server.on('stream', (stream, headers) => {
        if (headers[':authority'] !== 'sync.service') {
          stream.respond({ ':status': 404 });
          stream.end();
          return;
        }
        const port = this.#running.get('default')?.port;
        if (port === undefined) {
          stream.respond({ ':status': 503 });
          stream.end();
          return;
        }
        const session = connectH2c(`http://127.0.0.1:${port}`);
        session.on('error', () => stream.destroy());
        const { ':authority': _a, ':scheme': _s, ...forwarded } = headers;
        const upstream = session.request(forwarded, { waitForTrailers: false });
        stream.pipe(upstream);
        let trailers = {};
        upstream.on('trailers', (received) => (trailers = received));
        upstream.on('response', (response) => {
          stream.respond(response, { waitForTrailers: true });
          stream.once('wantTrailers', () => stream.sendTrailers(trailers));
        });
        upstream.on('data', (chunk: Buffer) => stream.write(chunk));
        upstream.on('end', () => {
          stream.end();
          session.close();
        });
        upstream.on('error', () => stream.destroy());
        stream.on('close', () => {
          upstream.close();
          session.close();
        });
      });
      await new Promise<void>((done) => server.listen(0, 'localhost', done));
      this.#envoy = server;
    }
    return (this.#envoy.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#restarts]);
    await Promise.all([...this.#running.keys()].map((config) => this.#kill(config)));
    for (const server of [this.#forbidden, this.#envoy])
      await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #spawn(config: LaunchpadConfig, port: number): Promise<void> {
    const ports = servePortArgs(port);
    const child = await spawnServe([...argsFor(config, this.dir), ...ports], this.dir);
    this.#running.set(config, { child, port });
  }

  async #kill(config: LaunchpadConfig): Promise<void> {
    const running = this.#running.get(config);
    if (running === undefined) return;
    this.#running.delete(config);
    await stopProcess(running.child);
  }
}
