import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { EvaluationContext, Logger } from '@openfeature/core';
import type { EvaluationResult } from '../evaluator/index.js';
import { DEFAULT_LIMITS } from '../evaluator/load.js';
import { isWritableSource, type FlagSource, type FlagSourceSink } from '../sources/flag-source.js';
import { encodeMetadataResponse, encodeSyncResponse } from '../grpc/wire.js';
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../rollout/audit.js';
import { handleAdmin, type AdminDeps } from './admin-api.js';
import { AlertHandler, type AlertSettings } from './alerts.js';
import type { FlagActionDeps } from './flag-actions.js';
import { Operations } from './operations.js';
import { TokenTable, type HashedGrant, type TokenGrant } from './roles.js';
import { handleConnectStream, type ConnectStreamDeps } from './connect-stream.js';
import { handleProtoUnary } from './connect-unary.js';
import { corsHeaders, handlePreflight } from './cors.js';
import { handleEvaluation } from './evaluation-api.js';
import { JSON_EVENTS, PROTO_EVENTS } from './event-changes.js';
import { contextEnricher } from './context-enrichment.js';
import { removeStaleSocket } from './unix-socket.js';
import { isLoopbackHost, pathOf, sendJson, type EvaluationDeps } from './http-util.js';
import { ServerMetrics } from './metrics.js';
import { handleOfrep, OFREP_EVENTS_PATH } from './ofrep.js';
import { parseSelector, type Selector } from './selector.js';
import { DEFAULT_MAX_SELECTIONS, ServedFlags } from './served-flags.js';
import { addSyncService } from './sync-service.js';
import {
  handleGrpcStream,
  type GrpcEvaluationDeps,
  type GrpcServerStream,
} from './grpc-evaluation.js';
import { handleGrpcWeb, type GrpcWebDeps } from './grpc-web.js';
import { serveHttp2, type Http2Side } from './h2c.js';
import { isGrpc, serveAsHttp1 } from './h2-web.js';
import { SourceStore } from './source-store.js';
import { DEFAULT_MAX_STREAM_BUFFER_BYTES, Subscribers } from './subscribers.js';

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
  /**
   * Also serve the evaluation port's services (gRPC, Connect, the JSON API) on this unix socket,
   * in plain text (flagd's `--socket-path`). A socket file left by a server that is gone is
   * replaced; one a live server holds is an error.
   */
  readonly socketPath?: string;
  /** `/healthz`, `/readyz`, Prometheus `/metrics` and the admin API (`/admin/flags`). Default 8014. */
  readonly managementPort?: PortOption;
  /**
   * A bearer token with every role but `alerts` (the grant `{ name: 'admin', roles: ['admin'] }`).
   * Without any token, the management API serves only a server bound to loopback, and answers 403
   * otherwise.
   */
  readonly adminToken?: string;
  /**
   * Tokens with roles for the management API (`read`, `rollout`, `admin`, `alerts`); a token's name
   * is the actor of what it does in the audit log. Load them with `parseRoles` from a file.
   */
  readonly tokens?: readonly (TokenGrant | HashedGrant)[];
  /**
   * The audit log every change through the server is appended to (admin edits, kills, rollbacks,
   * freezes, alert actions, and file edits the server sees, as actor `file`). Without it nothing
   * is audited.
   */
  readonly audit?: AuditLog;
  /** How Alertmanager's webhook (`/admin/alerts`) acts on flags. */
  readonly alerts?: AlertSettings;
  /** The largest configuration the admin API accepts, in bytes. Default 4 MiB. */
  readonly adminMaxBytes?: number;
  /**
   * Origins whose browser pages may call the evaluation port (CORS), as flagd's `--cors-origin`;
   * `*` allows any. Default: any origin, as flagd allows when none is given.
   */
  readonly corsOrigins?: readonly string[];
  /** OFREP. Default 8016. */
  readonly ofrepPort?: PortOption;
  /** TLS for every listener: PEM certificate chain and private key. Plain text without it. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /**
   * Static context (flagd's `--context-value`): sent with every snapshot to in-process providers,
   * and added to every evaluation the server makes (evaluation API, gRPC, OFREP) over the request's
   * own context.
   */
  readonly syncContext?: EvaluationContext;
  /**
   * Request headers copied into every evaluation's context, header name → context key (flagd's
   * `--context-from-header`). A header wins over `syncContext`, which wins over the request.
   */
  readonly contextFromHeaders?: Readonly<Record<string, string>>;
  /** Answer the deprecated `GetMetadata` with UNIMPLEMENTED (flagd's `--disable-sync-metadata`). */
  readonly disableSyncMetadata?: boolean;
  /** Bounds on what clients can make the server hold; each has a default (see {@link ServerLimits}). */
  readonly limits?: Partial<ServerLimits>;
  readonly logger?: Logger;
}

/** What a client can make a {@link FlagServer} hold, and for how long. */
export interface ServerLimits {
  /** Open connections per HTTP listener (SSE streams included); more are refused. Default 1024. */
  readonly maxConnections: number;
  /** Time for a client to send a request's headers. Default 10 000 ms. */
  readonly headersTimeoutMs: number;
  /** Time for a client to send a whole request, body included. Default 30 000 ms. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. Default 5 000 ms. */
  readonly keepAliveTimeoutMs: number;
  /** Selections (per selector) whose JSON, sync message and evaluator are kept. Default 64. */
  readonly maxSelections: number;
  /** The deepest JSON nesting accepted in a request body or an evaluation context. Default 128. */
  readonly maxDepth: number;
  /**
   * Bytes a stream (sync over gRPC, SSE or OFREP SSE; `EventStream` over gRPC, Connect or
   * gRPC-Web) may hold that its client has not read; a stream past it is closed (gRPC sync with
   * RESOURCE_EXHAUSTED) rather than sent another message, and its client reconnects. Default 16 MiB.
   */
  readonly maxStreamBufferBytes: number;
}

/** The default {@link ServerLimits}. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxSelections: DEFAULT_MAX_SELECTIONS,
  maxDepth: DEFAULT_LIMITS.maxDepth,
  maxStreamBufferBytes: DEFAULT_MAX_STREAM_BUFFER_BYTES,
};

/** A listener of a {@link FlagServer}: what a failure to listen names. */
export type ListenerName = 'sync' | 'evaluation' | 'management' | 'ofrep';

/**
 * `error` from binding listener `listener` to `port`, named: "port 8015 is in use (sync)", with
 * `code` (`EADDRINUSE` also for gRPC, whose own message does not say it), `listener` and `port`.
 */
function listenError(error: Error, listener: ListenerName, port: number | string) {
  const inUse =
    (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ||
    /EADDRINUSE|address already in use/i.test(error.message);
  const where = typeof port === 'string' ? `socket ${port}` : `port ${port}`;
  const message = inUse
    ? `${where} is in use (${listener})`
    : `cannot listen on ${where} (${listener}): ${error.message}`;
  return Object.assign(new Error(message, { cause: error }), {
    code: inUse ? 'EADDRINUSE' : (error as NodeJS.ErrnoException).code,
    listener,
    port,
  });
}

/** The ports a started server listens on; `undefined` for a listener that is off. */
export interface BoundPorts {
  readonly syncPort: number;
  readonly httpPort: number;
  readonly managementPort: number | undefined;
  readonly ofrepPort: number | undefined;
}

const SILENT: Logger = { error() {}, warn() {}, info() {}, debug() {} };
/** Answers a request, over HTTP/1.1 or (anything but gRPC: Connect, JSON, CORS, SSE) HTTP/2. */
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
  readonly #http2: Http2Side[] = [];
  readonly #metrics = new ServerMetrics();
  readonly #subscribers: Subscribers;
  readonly #limits: ServerLimits;
  readonly #store: SourceStore;
  readonly #operations: Operations;
  readonly #actions: FlagActionDeps;
  readonly #enrich: ReturnType<typeof contextEnricher>;
  /** What the evaluation API, Connect unary and OFREP need; built once, shared by every request. */
  readonly #evaluationDeps: EvaluationDeps;
  readonly #grpcWebDeps: GrpcWebDeps;

  constructor(options: FlagServerOptions) {
    const sources =
      options.sources ?? (options.source ? [{ name: 'default', source: options.source }] : []);
    if (sources.length === 0) throw new RangeError('a FlagServer needs a source or sources');
    this.#options = options;
    this.#sources = sources;
    this.#logger = options.logger ?? SILENT;
    this.#limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
    this.#enrich = contextEnricher({
      ...(options.syncContext === undefined ? {} : { values: options.syncContext }),
      ...(options.contextFromHeaders === undefined
        ? {}
        : { fromHeaders: options.contextFromHeaders }),
    });
    this.#evaluationDeps = {
      pick: this.#pick,
      evaluated: this.#evaluated,
      maxDepth: this.#limits.maxDepth,
      enrich: this.#enrich,
    };
    this.#grpcWebDeps = { ...this.#evaluationDeps, subscribe: this.#grpcWebStream };
    this.#flags = new ServedFlags(
      sources.map((s) => s.name),
      options.syncContext,
      this.#limits.maxSelections,
    );
    this.#subscribers = new Subscribers(
      this.#flags,
      this.#metrics,
      this.#logger,
      this.#limits.maxStreamBufferBytes,
    );
    this.#store = new SourceStore(
      sources,
      this.#flags,
      (name) => this.#changed(name),
      this.#logger,
    );
    const clock = { now: () => Date.now() };
    this.#operations = new Operations({
      stored: (name) => this.#store.stored(name),
      exclusive: (name, update) => this.#store.exclusive(name, update),
      replace: (name, configuration, expected) =>
        this.#store.replace(name, configuration, expected),
      audit: options.audit,
      clock,
      version: () => this.#flags.version,
      logger: this.#logger,
    });
    const writable = sources.filter((s) => isWritableSource(s.source)).map((s) => s.name);
    this.#actions = {
      operations: this.#operations,
      sourceOfFlag: (key) => this.#flags.sourceOfFlag(key),
      writable: (name) => writable.includes(name),
      writableSources: writable,
      storedDoc: async (name) => {
        try {
          const doc: unknown = JSON.parse((await this.#store.stored(name)).json);
          return typeof doc === 'object' && doc !== null && !Array.isArray(doc)
            ? (doc as Record<string, unknown>)
            : undefined;
        } catch {
          return undefined;
        }
      },
      clock,
      newId: randomUUID,
    };
  }

  /** Starts the sources and the listeners; resolves with the ports bound. */
  async start(): Promise<BoundPorts> {
    for (const { name, source } of this.#sources) await source.start(this.#sinkFor(name));
    const host = this.#options.host ?? '127.0.0.1';
    const option = (value: PortOption | undefined, fallback: number) =>
      value === undefined ? fallback : value;
    const syncPort = await this.#startGrpc(host, this.#options.syncPort ?? 8015);
    const routeHttp: HttpHandler = (req, res) => this.#routeHttp(req, res);
    const grpcEvaluation = this.#grpcEvaluation();
    const httpPort = await this.#listen(
      host,
      this.#options.httpPort ?? 8013,
      routeHttp,
      'evaluation',
      grpcEvaluation,
    );
    const { socketPath } = this.#options;
    if (socketPath !== undefined) {
      await removeStaleSocket(socketPath);
      await this.#listen(host, 0, routeHttp, 'evaluation', grpcEvaluation, socketPath);
    }
    const admin = this.#adminDeps(host);
    const managementPort = await this.#listen(
      host,
      option(this.#options.managementPort, 8014),
      (req, res) => this.#routeManagement(req, res, admin),
      'management',
    );
    const ofrepPort = await this.#listen(
      host,
      option(this.#options.ofrepPort, 8016),
      (req, res) => this.#routeOfrep(req, res),
      'ofrep',
    );
    return { syncPort, httpPort, managementPort, ofrepPort };
  }

  /** Ends every stream, then closes the listeners and the sources. */
  async stop(): Promise<void> {
    this.#subscribers.endAll();
    for (const side of this.#http2) side.closeAll(1000);
    this.#http2.length = 0;
    const grpcServer = this.#grpc;
    await new Promise<void>((resolve) =>
      grpcServer ? grpcServer.tryShutdown(() => resolve()) : resolve(),
    );
    await Promise.all(
      this.#listeners.map(
        (server) =>
          new Promise<void>((resolve) => {
            // Every connection is closed here (HTTP/1 ones now, HTTP/2 sessions by closeAll, and
            // those accepted meanwhile on arrival); should one still be counted, stop() ends
            // within a second all the same.
            const drained = setTimeout(resolve, 1000);
            server.close(() => {
              clearTimeout(drained);
              resolve();
            });
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
        const previous = this.#flags.sourceJson(name);
        let changed: boolean;
        try {
          changed = this.#flags.apply(name, payload); // throws: the last good stays
        } catch (error) {
          this.#metrics.configuration(name, false, this.#flags.version);
          throw error;
        }
        if (!changed) return;
        this.#changed(name);
        // a change the server did not make (its own writes are served before they are stored)
        const next = this.#flags.sourceJson(name);
        if (previous !== undefined && next !== undefined && this.#options.audit !== undefined)
          this.#operations
            .recordOutside(name, previous, next)
            .catch((error: unknown) =>
              this.#logger.error(
                `flag server: an outside change of ${name} was not audited: ${(error as Error).message}`,
              ),
            );
      },
      error: (error) =>
        this.#logger.warn(
          `flag server: source ${name}: ${error.message}${/serving the last good flags/.test(error.message) ? '' : '; serving the last good flags'}`,
        ),
      stale: () => this.#logger.warn(`flag server: source ${name} is stale`),
    };
  }

  #changed(name: string): void {
    this.#metrics.configuration(name, true, this.#flags.version);
    this.#subscribers.broadcast();
  }

  async #startGrpc(host: string, port: number): Promise<number> {
    // a sync request is a selector and a provider id: a few hundred bytes
    const server = new grpc.Server({
      'grpc.max_receive_message_length': 64 * 1024,
      'grpc.max_concurrent_streams': 1000,
    });
    addSyncService(server, this.#logger, {
      subscribe: (call, selector) => this.#subscribers.addGrpc(call, selector),
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
          error ? reject(listenError(error, 'sync', port)) : resolve(bound),
        ),
      );
    if (syncSocketPath !== undefined) await bind(`unix:${syncSocketPath}`);
    return bind(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  }

  /** flagd's evaluation service over gRPC, on the evaluation port's HTTP/2 connections. */
  #grpcEvaluation(): GrpcEvaluationDeps {
    return {
      pick: (header) => this.#flags.evaluatorFor(parseSelector(header)),
      evaluated: this.#evaluated,
      subscribe: (call, header) => this.#subscribers.addGrpcEvents(call, parseSelector(header)),
      maxDepth: this.#limits.maxDepth,
      enrich: this.#enrich,
      called: (method, code) => this.#metrics.grpcCall(method, code),
      requestTimeoutMs: this.#limits.requestTimeoutMs,
    };
  }

  #listen(
    host: string,
    port: number,
    handler: HttpHandler,
    name: ListenerName,
    grpcDeps?: GrpcEvaluationDeps,
    socketPath?: string,
  ): Promise<number>;
  #listen(
    host: string,
    port: PortOption,
    handler: HttpHandler,
    name: ListenerName,
  ): Promise<number | undefined>;
  #listen(
    host: string,
    port: PortOption,
    handler: HttpHandler,
    name: ListenerName,
    grpcDeps?: GrpcEvaluationDeps,
    socketPath?: string,
  ): Promise<number | undefined> {
    if (port === null) return Promise.resolve(undefined);
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      res.once('finish', () => this.#metrics.request(name, res.statusCode));
      handler(req, res).catch((error: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, { code: 'internal', message: (error as Error).message });
        else res.end();
      });
    };
    // a unix socket is local: plain text, as flagd serves it
    const tls = socketPath === undefined ? this.#options.tls : undefined;
    const limits = {
      headersTimeout: Math.min(this.#limits.headersTimeoutMs, this.#limits.requestTimeoutMs),
      requestTimeout: this.#limits.requestTimeoutMs,
      keepAliveTimeout: this.#limits.keepAliveTimeoutMs,
      // how often the timeouts above are checked (Node's default is every 30 s)
      connectionsCheckingInterval: Math.min(
        1000,
        this.#limits.headersTimeoutMs,
        this.#limits.requestTimeoutMs,
      ),
    };
    const alpn = grpcDeps === undefined ? {} : { ALPNProtocols: ['h2', 'http/1.1'] };
    const server = tls
      ? createHttpsServer({ ...limits, ...alpn, cert: tls.cert, key: tls.key }, listener)
      : createHttpServer(limits, listener);
    server.maxConnections = this.#limits.maxConnections;
    if (grpcDeps !== undefined)
      this.#http2.push(
        serveHttp2(
          server,
          tls !== undefined,
          (stream, headers, _flags, rawHeaders) => {
            if (isGrpc(headers)) handleGrpcStream(stream, headers, grpcDeps, rawHeaders);
            else
              serveAsHttp1(stream, headers, rawHeaders, this.#limits.requestTimeoutMs, (req, res) =>
                listener(req, res),
              );
          },
          {
            headersTimeoutMs: limits.headersTimeout,
            idleTimeoutMs: this.#limits.keepAliveTimeoutMs,
            maxConcurrentStreams: 1000,
          },
        ),
      );
    this.#listeners.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(listenError(error, name, socketPath ?? port)));
      if (socketPath !== undefined) server.listen(socketPath, () => resolve(port));
      else server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  }

  /**
   * The evaluation API (Connect unary and the Connect `EventStream`, for browsers too, over HTTP/1.1
   * and HTTP/2), SSE sync (HTTP/1.1), and (as a convenience) the health endpoints.
   */
  async #routeHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origins = this.#options.corsOrigins ?? ['*'];
    if (handlePreflight(req, res, origins)) return;
    for (const [name, value] of Object.entries(corsHeaders(req, origins)))
      res.setHeader(name, value);
    const deps = this.#evaluationDeps;
    if (await handleGrpcWeb(req, res, this.#grpcWebDeps)) return;
    if (await handleConnectStream(req, res, this.#connectStreams)) return;
    if (await handleProtoUnary(req, res, deps)) return;
    if (await handleEvaluation(req, res, deps)) return;
    if (req.method === 'GET' && pathOf(req) === '/sync/sse') this.#subscribeSse(req, res, 'sse');
    else if (!this.#health(req, res)) res.writeHead(404).end();
  }

  readonly #connectStreams: ConnectStreamDeps = {
    pick: (req) => this.#pick(req),
    subscribe: (call, req, format) =>
      this.#subscribers.addGrpcEvents(
        call,
        this.#requestSelector(req),
        'connect-events',
        format === 'json' ? JSON_EVENTS : PROTO_EVENTS,
      ),
  };

  readonly #grpcWebStream = (call: GrpcServerStream, req: IncomingMessage) =>
    this.#subscribers.addGrpcEvents(call, this.#requestSelector(req), 'grpc-web-events');

  readonly #pick = (req: IncomingMessage) => this.#flags.evaluatorFor(this.#requestSelector(req));
  readonly #evaluated = (key: string, result: EvaluationResult<unknown>) =>
    this.#metrics.evaluated(key, result);

  /** OFREP, and its change notifications at `/ofrep/v1/events`. */
  async #routeOfrep(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const deps = this.#evaluationDeps;
    if (await handleOfrep(req, res, deps)) return;
    if (req.method === 'GET' && pathOf(req) === OFREP_EVENTS_PATH)
      this.#subscribeSse(req, res, 'ofrep-sse');
    else res.writeHead(404).end();
  }

  /** Health, Prometheus metrics and the admin API. */
  async #routeManagement(
    req: IncomingMessage,
    res: ServerResponse,
    admin: AdminDeps,
  ): Promise<void> {
    if (this.#health(req, res)) return;
    if (pathOf(req) === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(this.#metrics.render());
      return;
    }
    if (!(await handleAdmin(req, res, admin))) res.writeHead(404).end();
  }

  /** What the management API needs, set up once per start. */
  #adminDeps(host: string): AdminDeps {
    const { tokens, adminToken } = this.#options;
    const table = new TokenTable([
      ...(tokens ?? []),
      ...(adminToken === undefined
        ? []
        : [{ name: 'admin', token: adminToken, roles: ['admin' as const] }]),
    ]);
    return {
      tokens: table,
      loopback: isLoopbackHost(host),
      maxBytes: this.#options.adminMaxBytes ?? 4 * 1024 * 1024,
      maxDepth: this.#limits.maxDepth,
      sources: new Map(
        this.#sources.map((s) => [s.name, { writable: isWritableSource(s.source) }]),
      ),
      stored: (name) => this.#store.stored(name),
      operations: this.#operations,
      actions: this.#actions,
      alerts: new AlertHandler(this.#actions, this.#options.alerts ?? {}, this.#logger),
      audit: this.#options.audit,
      delivery: (version) => this.#subscribers.delivery(version),
      whenDelivered: (version, ms) => this.#subscribers.whenDelivered(version, ms),
      log: (line) => this.#logger.info(`flag server: ${line}`),
    };
  }

  /** A request's `Flagd-Selector` header; throws a RangeError for a bad one. */
  #requestSelector(req: IncomingMessage): Selector {
    const header = req.headers['flagd-selector'];
    return parseSelector(typeof header === 'string' ? header : undefined);
  }

  #subscribeSse(req: IncomingMessage, res: ServerResponse, kind: 'sse' | 'ofrep-sse'): void {
    let selector: Selector;
    try {
      selector = this.#requestSelector(req);
    } catch (error) {
      sendJson(res, 400, { code: 'invalid_argument', message: (error as Error).message });
      return;
    }
    try {
      this.#subscribers.addSse(res, selector, kind);
    } catch (error) {
      this.#logger.warn(`flag server: an SSE stream failed to open: ${(error as Error).message}`);
      if (res.headersSent) res.end();
      else sendJson(res, 500, { code: 'internal', message: (error as Error).message });
    }
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
