import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { EvaluationContext, Logger } from '@openfeature/core';
import type { FlagSource, FlagSourceSink } from '../sources/flag-source.js';
import { encodeMetadataResponse, encodeSyncResponse } from '../grpc/wire.js';
import { handleEvaluation } from './evaluation-api.js';
import { pathOf, sendJson } from './http-util.js';
import { parseSelector, selectorKey, type Selector } from './selector.js';
import { ServedFlags } from './served-flags.js';
import { addSyncService, type SyncCall } from './sync-service.js';

/** One named source of a {@link FlagServer}; a `source=<name>` selector picks its flags alone. */
export interface FlagServerSource {
  /** The name selectors use, flagd-style: the file's path or URI as given. */
  readonly name: string;
  readonly source: FlagSource;
}

/** A port option: a number (0 picks a free port) or `null` to not serve that listener. */
export type PortOption = number | null;

/** Options of {@link FlagServer}. Give `source` or `sources`. */
export interface FlagServerOptions {
  /** One source of flags: a `FileFlagSource`, an `InMemoryFlagSource`, … (named `default`). */
  readonly source?: FlagSource;
  /** Several sources, merged in order (a flag key defined twice takes the later source's flag). */
  readonly sources?: readonly FlagServerSource[];
  /** Interface to bind. Default `127.0.0.1`; use `0.0.0.0` to serve other hosts. */
  readonly host?: string;
  /** flagd's sync port (gRPC `flagd.sync.v1`). Default 8015; 0 picks a free one. */
  readonly syncPort?: number;
  /** Also serve the gRPC sync service on this unix socket. */
  readonly syncSocketPath?: string;
  /** The evaluation API (Connect JSON) and SSE sync at `/sync/sse`. Default 8013; 0 picks a free one. */
  readonly httpPort?: number;
  /** `/healthz`, `/readyz`, `/metrics` and the admin API. Default 8014. */
  readonly managementPort?: PortOption;
  /** OFREP. Default 8016. */
  readonly ofrepPort?: PortOption;
  /** TLS for every listener: PEM certificate chain and private key. Plain text without it. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Static context sent with every snapshot (flagd's `--context-value`). */
  readonly syncContext?: EvaluationContext;
  /** Answer the deprecated `GetMetadata` with UNIMPLEMENTED (flagd's `--disable-sync-metadata`). */
  readonly disableSyncMetadata?: boolean;
  readonly logger?: Logger;
}

/** The ports a started server listens on; `undefined` for a listener that is off. */
export interface BoundPorts {
  readonly syncPort: number;
  readonly httpPort: number;
  readonly managementPort: number | undefined;
  readonly ofrepPort: number | undefined;
}

const SILENT: Logger = { error() {}, warn() {}, info() {}, debug() {} };
type HttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Serves flags the way flagd does: to in-process providers over `flagd.sync.v1.FlagSyncService`
 * (`SyncFlags` full snapshots with the sync context, `FetchAllFlags`, the deprecated `GetMetadata`)
 * and over SSE, and to everyone else through flagd's evaluation API. Several sources are merged as
 * flagd merges them, and selectors pick a source or a flag set. Every configuration is validated
 * first: a bad one is refused (logged) and the last good one keeps being served. Stopping ends every
 * stream, so clients go STALE at once and reconnect elsewhere.
 *
 * @example
 * const server = new FlagServer({ source: new FileFlagSource('flags.json') });
 * await server.start(); // gRPC sync on 8015, evaluation API and SSE on 8013
 */
export class FlagServer {
  readonly #options: FlagServerOptions;
  readonly #sources: readonly FlagServerSource[];
  readonly #logger: Logger;
  readonly #flags: ServedFlags;
  #grpc: grpc.Server | undefined;
  readonly #listeners: NetServer[] = [];
  /** Open sync streams, each with its selection, and the JSON each selection last received. */
  readonly #streams = new Map<SyncCall, Selector>();
  readonly #sse = new Map<ServerResponse, Selector>();
  readonly #sent = new Map<string, string>();

  constructor(options: FlagServerOptions) {
    const sources =
      options.sources ?? (options.source ? [{ name: 'default', source: options.source }] : []);
    if (sources.length === 0) throw new RangeError('a FlagServer needs a source or sources');
    this.#options = options;
    this.#sources = sources;
    this.#logger = options.logger ?? SILENT;
    this.#flags = new ServedFlags(
      sources.map((s) => s.name),
      options.syncContext,
    );
  }

  /** Starts the sources and the listeners; resolves with the ports bound. */
  async start(): Promise<BoundPorts> {
    for (const { name, source } of this.#sources) await source.start(this.#sinkFor(name));
    const host = this.#options.host ?? '127.0.0.1';
    const option = (value: PortOption | undefined, fallback: number) =>
      value === undefined ? fallback : value;
    const syncPort = await this.#startGrpc(host, this.#options.syncPort ?? 8015);
    const httpPort = await this.#listen(host, this.#options.httpPort ?? 8013, (req, res) =>
      this.#routeHttp(req, res),
    );
    const managementPort = await this.#listen(
      host,
      option(this.#options.managementPort, 8014),
      async (req, res) => {
        if (!this.#health(req, res)) res.writeHead(404).end();
      },
    );
    const ofrepPort = await this.#listen(
      host,
      option(this.#options.ofrepPort, 8016),
      async (_req, res) => {
        res.writeHead(404).end();
      },
    );
    return { syncPort, httpPort, managementPort, ofrepPort };
  }

  /** Ends every stream, then closes the listeners and the sources. */
  async stop(): Promise<void> {
    // UNAVAILABLE, not a plain end: every flagd client retries on it (the published JS provider
    // ignores a stream that ends with OK and would stay silently disconnected)
    const goingAway = {
      code: grpc.status.UNAVAILABLE,
      details: 'the flag server is shutting down',
    };
    for (const call of this.#streams.keys()) call.emit('error', goingAway);
    this.#streams.clear();
    for (const res of this.#sse.keys()) res.end();
    this.#sse.clear();
    const grpcServer = this.#grpc;
    await new Promise<void>((resolve) =>
      grpcServer ? grpcServer.tryShutdown(() => resolve()) : resolve(),
    );
    await Promise.all(
      this.#listeners.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      ),
    );
    this.#listeners.length = 0;
    for (const { source } of this.#sources) await source.stop();
  }

  #sinkFor(name: string): FlagSourceSink {
    return {
      configuration: (payload) => {
        if (this.#flags.apply(name, payload)) this.#broadcast(); // apply throws: the last good stays
      },
      error: (error) =>
        this.#logger.warn(
          `flag server: source ${name}: ${error.message}; serving the last good flags`,
        ),
      stale: () => this.#logger.warn(`flag server: source ${name} is stale`),
    };
  }

  /** Sends every stream whose selection changed its new snapshot, encoded once per selection. */
  #broadcast(): void {
    const changed = new Map<string, boolean>();
    const hasChanged = (selector: Selector): boolean => {
      const key = selectorKey(selector);
      let result = changed.get(key);
      if (result === undefined) {
        const json = this.#flags.json(selector);
        result = this.#sent.get(key) !== json;
        this.#sent.set(key, json);
        changed.set(key, result);
      }
      return result;
    };
    for (const [call, selector] of this.#streams)
      if (hasChanged(selector)) call.write(this.#flags.syncBytes(selector));
    for (const [res, selector] of this.#sse)
      if (hasChanged(selector)) res.write(this.#flags.sseEvent(selector));
  }

  #subscribeSync(call: SyncCall, selector: Selector): void {
    this.#streams.set(call, selector);
    this.#sent.set(selectorKey(selector), this.#flags.json(selector));
    call.on('cancelled', () => this.#streams.delete(call));
    call.on('close', () => this.#streams.delete(call));
    call.write(this.#flags.syncBytes(selector));
  }

  async #startGrpc(host: string, port: number): Promise<number> {
    const server = new grpc.Server();
    addSyncService(server, {
      subscribe: (call, selector) => this.#subscribeSync(call, selector),
      fetchAll: (selector) => encodeSyncResponse({ flagConfiguration: this.#flags.json(selector) }),
      metadata: () =>
        this.#options.disableSyncMetadata
          ? undefined
          : encodeMetadataResponse((this.#options.syncContext ?? {}) as never),
    });
    this.#grpc = server;
    const { tls, syncSocketPath } = this.#options;
    const credentials = tls
      ? grpc.ServerCredentials.createSsl(null, [
          { cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) },
        ])
      : grpc.ServerCredentials.createInsecure();
    const bind = (address: string) =>
      new Promise<number>((resolve, reject) =>
        server.bindAsync(address, credentials, (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
    if (syncSocketPath !== undefined) await bind(`unix:${syncSocketPath}`);
    return bind(`${host}:${port}`);
  }

  #listen(host: string, port: number, handler: HttpHandler): Promise<number>;
  #listen(host: string, port: PortOption, handler: HttpHandler): Promise<number | undefined>;
  #listen(host: string, port: PortOption, handler: HttpHandler): Promise<number | undefined> {
    if (port === null) return Promise.resolve(undefined);
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      handler(req, res).catch((error: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, { code: 'internal', message: (error as Error).message });
        else res.end();
      });
    };
    const { tls } = this.#options;
    const server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener)
      : createHttpServer(listener);
    this.#listeners.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  }

  /** The evaluation API, SSE sync, and (as a convenience) the health endpoints. */
  async #routeHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pick = (r: IncomingMessage) => this.#flags.evaluatorFor(this.#requestSelector(r));
    if (await handleEvaluation(pick, req, res)) return;
    if (req.method === 'GET' && pathOf(req) === '/sync/sse') this.#subscribeSse(req, res);
    else if (!this.#health(req, res)) res.writeHead(404).end();
  }

  /** A request's `Flagd-Selector` header; throws a RangeError for a bad one. */
  #requestSelector(req: IncomingMessage): Selector {
    const header = req.headers['flagd-selector'];
    return parseSelector(typeof header === 'string' ? header : undefined);
  }

  #subscribeSse(req: IncomingMessage, res: ServerResponse): void {
    let selector: Selector;
    try {
      selector = this.#requestSelector(req);
    } catch (error) {
      sendJson(res, 400, { code: 'invalid_argument', message: (error as Error).message });
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    this.#sse.set(res, selector);
    this.#sent.set(selectorKey(selector), this.#flags.json(selector));
    res.on('close', () => this.#sse.delete(res));
    res.write(this.#flags.sseEvent(selector));
  }

  /** `/healthz` and `/readyz` (ready once every source has delivered good flags). */
  #health(req: IncomingMessage, res: ServerResponse): boolean {
    const path = pathOf(req);
    if (path === '/healthz') res.writeHead(200).end('ok');
    else if (path === '/readyz') {
      const ready = this.#flags.ready;
      res.writeHead(ready ? 200 : 503).end(ready ? 'ok' : 'not every source has delivered flags');
    } else return false;
    return true;
  }
}
