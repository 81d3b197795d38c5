import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { EvaluationContext, Logger } from '@openfeature/core';
import { parse as parseYaml } from 'yaml';
import { createEvaluator, type ConfigurationInput } from '../evaluator/index.js';
import type { FlagSource, FlagSourceSink } from '../sources/flag-source.js';
import { handleEvaluation } from './evaluation-api.js';
import { parseSelector, selectFlags, type Selector } from './selector.js';

import {
  decodeSyncRequest,
  encodeMetadataResponse,
  encodeSyncResponse,
  type SyncRequest,
  type SyncResponse,
} from '../grpc/wire.js';

/** Options of {@link FlagServer}. */
export interface FlagServerOptions {
  /** Where the flags come from: a `FileFlagSource`, an `InMemoryFlagSource`, … */
  readonly source: FlagSource;
  /** Interface to bind. Default `127.0.0.1`; use `0.0.0.0` to serve other hosts. */
  readonly host?: string;
  /** flagd's sync port (gRPC `flagd.sync.v1`). Default 8015; 0 picks a free one. */
  readonly syncPort?: number;
  /**
   * HTTP port: flagd's evaluation API (Connect JSON), SSE sync at `/sync/sse`, `/healthz`,
   * `/readyz`. Default 8013; 0 picks a free one.
   */
  readonly httpPort?: number;
  /** Static context sent with every snapshot (flagd's `--context-value`). */
  readonly syncContext?: EvaluationContext;
  readonly logger?: Logger;
}

const SERVICE = '/flagd.sync.v1.FlagSyncService/';
const ALL: Selector = { kind: 'all' };
const SILENT: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/** flagd's serialisation of the configuration: JSON text, whatever the input was. */
function asJson(input: ConfigurationInput): string {
  if (typeof input !== 'string') return JSON.stringify(input);
  const first = input.trimStart()[0];
  return first === '{' || first === '[' ? input : JSON.stringify(parseYaml(input));
}

/**
 * Serves flags the way flagd does to in-process providers: the `flagd.sync.v1.FlagSyncService`
 * (`SyncFlags` full snapshots with the sync context, `FetchAllFlags`, the deprecated `GetMetadata`)
 * over gRPC, and the same snapshots over SSE. Every configuration is validated first: a bad one is
 * refused (logged) and the last good one keeps being served. Stopping ends every stream, so clients
 * go STALE at once and reconnect elsewhere.
 */
export class FlagServer {
  readonly #options: FlagServerOptions;
  readonly #logger: Logger;
  readonly #evaluator = createEvaluator();
  #json: string | undefined;
  #version = 0;
  #grpc: grpc.Server | undefined;
  #http: HttpServer | undefined;
  /** Open sync streams, each with the selector its client asked for. */
  readonly #streams = new Map<grpc.ServerWritableStream<SyncRequest, Uint8Array>, Selector>();
  readonly #sse = new Map<ServerResponse, Selector>();

  constructor(options: FlagServerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? SILENT;
  }

  /** Starts the source and both listeners; resolves with the ports bound. */
  async start(): Promise<{ syncPort: number; httpPort: number }> {
    await this.#options.source.start(this.#sink);
    const host = this.#options.host ?? '127.0.0.1';
    const syncPort = await this.#startGrpc(host, this.#options.syncPort ?? 8015);
    const httpPort = await this.#startHttp(host, this.#options.httpPort ?? 8013);
    return { syncPort, httpPort };
  }

  /** Ends every stream, then closes the listeners and the source. */
  async stop(): Promise<void> {
    for (const call of this.#streams.keys()) call.end();
    this.#streams.clear();
    for (const res of this.#sse.keys()) res.end();
    this.#sse.clear();
    await new Promise<void>((resolve) =>
      this.#grpc ? this.#grpc.tryShutdown(() => resolve()) : resolve(),
    );
    await new Promise<void>((resolve) =>
      this.#http ? this.#http.close(() => resolve()) : resolve(),
    );
    this.#http?.closeAllConnections();
    await this.#options.source.stop();
  }

  readonly #sink: FlagSourceSink = {
    configuration: (payload) => {
      const changes = this.#evaluator.setConfiguration(payload); // throws: the last good stays
      const json = asJson(payload);
      const changed =
        this.#json === undefined ||
        changes.added.length + changes.removed.length + changes.changed.length > 0;
      this.#json = json;
      if (!changed) return;
      this.#version++;
      for (const [call, selector] of this.#streams)
        call.write(encodeSyncResponse(this.#snapshot(selector)));
      for (const [res, selector] of this.#sse) this.#writeSse(res, selector);
    },
    error: (error) =>
      this.#logger.warn(`flag server: ${error.message}; serving the last good flags`),
    stale: () => this.#logger.warn('flag server: its flag source is stale'),
  };

  #snapshot(selector: Selector = ALL): SyncResponse {
    const { syncContext } = this.#options;
    const flagConfiguration = selectFlags(this.#json ?? '{"flags":{}}', selector);
    return {
      flagConfiguration,
      ...(syncContext === undefined ? {} : { syncContext: syncContext as never }),
    };
  }

  /** The selector of a request: the Flagd-Selector header wins over the deprecated body field. */
  #selectorOf(header: unknown, body: string | undefined): Selector | Error {
    try {
      return parseSelector(typeof header === 'string' ? header : body);
    } catch (error) {
      return error as Error;
    }
  }

  #startGrpc(host: string, port: number): Promise<number> {
    const server = new grpc.Server();
    const method = (
      name: string,
      responseStream: boolean,
    ): grpc.MethodDefinition<SyncRequest, unknown> => ({
      path: `${SERVICE}${name}`,
      requestStream: false,
      responseStream,
      requestSerialize: () => Buffer.alloc(0),
      requestDeserialize: (bytes: Buffer) => decodeSyncRequest(bytes),
      responseSerialize: (message: unknown) => Buffer.from(message as Uint8Array),
      responseDeserialize: (bytes: Buffer) => bytes,
    });
    server.addService(
      {
        syncFlags: method('SyncFlags', true),
        fetchAllFlags: method('FetchAllFlags', false),
        getMetadata: method('GetMetadata', false),
      },
      {
        syncFlags: (call: grpc.ServerWritableStream<SyncRequest, Uint8Array>) => {
          const selector = this.#selectorOf(
            call.metadata.get('flagd-selector')[0],
            call.request.selector,
          );
          if (selector instanceof Error) {
            call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: selector.message });
            return;
          }
          this.#streams.set(call, selector);
          call.on('cancelled', () => this.#streams.delete(call));
          call.on('close', () => this.#streams.delete(call));
          call.write(encodeSyncResponse(this.#snapshot(selector)));
        },
        fetchAllFlags: (
          call: grpc.ServerUnaryCall<SyncRequest, Uint8Array>,
          callback: grpc.sendUnaryData<Uint8Array>,
        ) => {
          const selector = this.#selectorOf(
            call.metadata.get('flagd-selector')[0],
            call.request.selector,
          );
          if (selector instanceof Error)
            callback({ code: grpc.status.INVALID_ARGUMENT, details: selector.message });
          else
            callback(
              null,
              encodeSyncResponse({ flagConfiguration: this.#snapshot(selector).flagConfiguration }),
            );
        },
        getMetadata: (_call: unknown, callback: grpc.sendUnaryData<Uint8Array>) => {
          callback(null, encodeMetadataResponse((this.#options.syncContext ?? {}) as never));
        },
      },
    );
    this.#grpc = server;
    return new Promise((resolve, reject) =>
      server.bindAsync(
        `${host}:${port}`,
        grpc.ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
  }

  #startHttp(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => void this.#route(req, res));
    this.#http = server;
    return new Promise((resolve) =>
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port)),
    );
  }

  /** The evaluation API first, then SSE sync and the health endpoints. */
  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (await handleEvaluation(this.#evaluator, req, res)) return;
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 'internal', message: (error as Error).message }));
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/sync/sse') {
      const selector = this.#selectorOf(req.headers['flagd-selector'], undefined);
      if (selector instanceof Error) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: 'invalid_argument', message: selector.message }));
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
      });
      this.#sse.set(res, selector);
      res.on('close', () => this.#sse.delete(res));
      this.#writeSse(res, selector);
    } else if (path === '/healthz') res.writeHead(200).end('ok');
    else if (path === '/readyz') {
      const ready = this.#json !== undefined;
      res.writeHead(ready ? 200 : 503).end(ready ? 'ok' : 'no flags yet');
    } else res.writeHead(404).end();
  }

  #writeSse(res: ServerResponse, selector: Selector): void {
    const snapshot = this.#snapshot(selector);
    res.write(`id: ${this.#version}\nevent: configuration\ndata: ${JSON.stringify(snapshot)}\n\n`);
  }
}
