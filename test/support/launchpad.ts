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
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { servePortArgs, startServe, stopProcess } from './serve-process.js';
import { TcpFront } from './tcp-front.js';
import { mergedTestbedFlags, withChangingFlagToggled } from './testbed.js';

/** The launchpad configurations of the flagd testbed, plus `socket` (default, on a unix socket). */
export type LaunchpadConfig = 'default' | 'ssl' | 'metadata' | 'sync-payload' | 'socket';

/** Which of a server's ports: gRPC sync (in-process providers) or evaluation (RPC providers). */
export type LaunchpadPort = 'sync' | 'evaluation';

/** The unix sockets of the `socket` config, by port kind. */
const SOCKETS: Record<LaunchpadPort, string> = {
  sync: 'flagd-sync.sock',
  evaluation: 'flagd-evaluation.sock',
};

/** The testbed envoy's routes: an authority, and the default config's port it leads to. */
const ROUTES: Record<string, LaunchpadPort> = {
  'sync.service': 'sync',
  'rpc.service': 'evaluation',
};

export const TLS_DIR = resolve('test/fixtures/tls');
const REPO = resolve('.');

export { freePort } from './ports.js';

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
  if (config === 'socket')
    args.push(
      ...['--sync-socket-path', join(dir, SOCKETS.sync)],
      ...['--socket-path', join(dir, SOCKETS.evaluation)],
    );
  return args;
}

/**
 * The flagd testbed's launchpad, re-created around `rampflag serve`: a directory laid out as the
 * testbed container's (`flags/allFlags.json` deep-merged as launchpad merges it, `rawflags/` the
 * raw files), one `rampflag serve` process per config, and launchpad's actions: losing the
 * connection for N seconds (the process stops, and starts again N seconds later) and modifying
 * `changing-flag`.
 *
 * Each config's clients connect to a {@link TcpFront} whose port this process holds from first use
 * to `close()`; every `rampflag serve` binds fresh ports and the front is re-pointed. A restart
 * therefore never re-binds a released port, which another process can take in the seconds the
 * server is down (it did once, as EADDRINUSE in "Provider reconnection"). To the provider it looks
 * as launchpad's restart does: streams end, connections are refused, then the server is back.
 */
export class Launchpad {
  readonly dir = mkdtempSync(join(tmpdir(), 'rampflag-launchpad-'));
  /** Running servers and the ports each bound (the fronts relay to them). */
  readonly #running = new Map<
    LaunchpadConfig,
    { child: ChildProcess; ports: Record<LaunchpadPort, number> }
  >();
  /** The fronts, by config and port kind (`default/sync`). */
  readonly #fronts = new Map<string, TcpFront>();
  readonly #restarts = new Set<Promise<void>>();
  /** Why a restart failed, for the step that then waits in vain. */
  restartError: Error | undefined;
  #unavailable: TcpFront | undefined;
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

  /**
   * The port a config's clients connect to (its front for `kind`: sync for in-process providers,
   * evaluation for RPC ones), the server started on first use.
   */
  async port(config: LaunchpadConfig, kind: LaunchpadPort = 'sync'): Promise<number> {
    const key = `${config}/${kind}`;
    let front = this.#fronts.get(key);
    if (front === undefined) {
      front = await TcpFront.open();
      this.#fronts.set(key, front);
      const running = this.#running.get(config);
      if (running !== undefined) front.up(running.ports[kind]);
    }
    if (!this.#running.has(config)) await this.#spawn(config);
    return front.port;
  }

  /** The unix socket the `socket` config serves `kind` on. */
  socketPath(kind: LaunchpadPort): string {
    return join(this.dir, SOCKETS[kind]);
  }

  /** "the connection is lost for Ns": every server stops now and starts again `seconds` later. */
  async loseConnection(seconds: number): Promise<void> {
    const stopped = [...this.#running.keys()];
    await Promise.all(stopped.map((config) => this.#kill(config)));
    const restart = new Promise<void>((done) => setTimeout(done, seconds * 1000))
      .then(() => Promise.all(stopped.map((config) => this.#spawn(config))))
      .then(
        () => undefined,
        (error: unknown) => {
          this.restartError = error as Error;
        },
      );
    this.#restarts.add(restart);
    void restart.finally(() => this.#restarts.delete(restart));
  }

  /** "the flag was modified": toggles `changing-flag` between foo and bar, replacing the file atomically. */
  modifyChangingFlag(): void {
    const file = join(this.dir, 'flags', 'allFlags.json');
    writeFileSync(`${file}.tmp`, withChangingFlagToggled(readFileSync(file, 'utf8')));
    renameSync(`${file}.tmp`, file);
  }

  /**
   * A port that refuses every connection, held by this process so that nothing else can start
   * listening there (a port bound and released, as {@link freePort}'s, can be taken by anyone).
   */
  async unavailablePort(): Promise<number> {
    this.#unavailable ??= await TcpFront.open();
    return this.#unavailable.port;
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
   * to the default config's sync port, `rpc.service` to its evaluation port; any other authority
   * gets 404. Headers, body and trailers are
   * relayed as they come, so a gRPC stream passes through whole.
   */
  async envoyPort(): Promise<number> {
    if (this.#envoy === undefined) {
      const server = createH2cServer();
      server.on('stream', (stream, headers) => {
        const kind = ROUTES[headers[':authority'] ?? ''];
        if (kind === undefined) {
          stream.respond({ ':status': 404 });
          stream.end();
          return;
        }
        const port = this.#running.get('default')?.ports[kind];
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
    await Promise.all([...this.#fronts.values()].map((front) => front.close()));
    await this.#unavailable?.close();
    for (const server of [this.#forbidden, this.#envoy])
      await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Starts a config's server on fresh ports and points its fronts at it. */
  async #spawn(config: LaunchpadConfig): Promise<void> {
    const { child, ports } = await startServe([...argsFor(config, this.dir), ...servePortArgs()], {
      cwd: this.dir,
    });
    const bound = { sync: ports.sync, evaluation: ports.http };
    this.#running.set(config, { child, ports: bound });
    for (const kind of ['sync', 'evaluation'] as const)
      this.#fronts.get(`${config}/${kind}`)?.up(bound[kind]);
  }

  /** Stops a config's server (its streams end as it says goodbye); its fronts then refuse. */
  async #kill(config: LaunchpadConfig): Promise<void> {
    const running = this.#running.get(config);
    if (running === undefined) return;
    this.#running.delete(config);
    await stopProcess(running.child);
    for (const kind of ['sync', 'evaluation'] as const)
      this.#fronts.get(`${config}/${kind}`)?.down();
  }
}
