import * as grpc from '@grpc/grpc-js';
import { isInvalidConfigurationError } from '../evaluator/index.js';
import type { FlagdConfig } from '../provider/config.js';
import type { FlagSource, FlagSourceSink } from '../sources/flag-source.js';
import { Reconnector } from '../sources/reconnect.js';
import { channelFor, syncRequestOf, type ChannelOptions } from './channel.js';
import {
  decodeSyncResponse,
  encodeSyncRequest,
  type SyncRequest,
  type SyncResponse,
} from './wire.js';

/** The options a gRPC sync source reads: flagd's, as the provider resolved them. */
export type GrpcSyncOptions = ChannelOptions &
  Pick<
    FlagdConfig,
    | 'selector'
    | 'providerId'
    | 'streamDeadlineMs'
    | 'retryBackoffMs'
    | 'retryBackoffMaxMs'
    | 'retryGracePeriod'
    | 'fatalStatusCodes'
  > & { readonly random?: () => number };

const SYNC_FLAGS = '/flagd.sync.v1.FlagSyncService/SyncFlags';

/** A gRPC failure carrying its status name (`UNAVAILABLE`, `PERMISSION_DENIED`, …) as `code`. */
function statusError(error: grpc.ServiceError): Error & { code: string } {
  const name = grpc.status[error.code] ?? String(error.code);
  return Object.assign(new Error(`flagd sync stream: ${name}: ${error.details || error.message}`), {
    code: name,
  });
}

/**
 * flagd's `flagd.sync.v1.FlagSyncService/SyncFlags` stream: every message a full snapshot with its
 * sync context. On a disconnect (an error, a server closing the stream, the stream deadline) it is
 * STALE at once, reconnects with capped exponential backoff and jitter, and reports an error if still
 * disconnected after the grace period; the provider keeps serving the last good flags throughout.
 * A status in `fatalStatusCodes` on the first connection is fatal.
 */
export class GrpcSyncSource implements FlagSource {
  readonly #options: GrpcSyncOptions;
  readonly #reconnect: Reconnector;
  #client: grpc.Client | undefined;
  #call: grpc.ClientReadableStream<SyncResponse> | undefined;
  #sink: FlagSourceSink | undefined;
  #stopped = false;

  constructor(options: GrpcSyncOptions) {
    this.#options = options;
    this.#reconnect = new Reconnector({ ...options, random: options.random ?? Math.random });
  }

  start(sink: FlagSourceSink): Promise<void> {
    this.#sink = sink;
    this.#stopped = false;
    this.#client = channelFor(this.#options);
    return new Promise((resolve, reject) => this.#open(resolve, reject));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#reconnect.stop();
    this.#call?.cancel();
    this.#client?.close();
    this.#sink = undefined;
  }

  /** Opens one stream; `resolve`/`reject` settle the start until the first snapshot or failure. */
  #open(resolve?: () => void, reject?: (error: Error) => void): void {
    const client = this.#client;
    if (client === undefined || this.#stopped) return;
    const { streamDeadlineMs } = this.#options;
    const { request, metadata } = syncRequestOf(this.#options);
    const callOptions: grpc.CallOptions =
      streamDeadlineMs > 0 ? { deadline: Date.now() + streamDeadlineMs } : {};
    const call = client.makeServerStreamRequest(
      SYNC_FLAGS,
      (message: SyncRequest) => Buffer.from(encodeSyncRequest(message)),
      (bytes: Buffer) => decodeSyncResponse(bytes),
      request,
      metadata,
      callOptions,
    );
    this.#call = call;
    let settled = false;
    call.on('data', (response: SyncResponse) => {
      this.#reconnect.connected();
      try {
        this.#sink?.configuration(response.flagConfiguration, response.syncContext);
      } catch (error) {
        if (!isInvalidConfigurationError(error)) throw error;
        if (!settled) {
          settled = true;
          reject?.(error);
        } else this.#sink?.error(error);
        return;
      }
      if (!settled) {
        settled = true;
        resolve?.();
      }
    });
    const lost = (error: Error & { code?: string }) => {
      if (call !== this.#call || this.#stopped) return;
      this.#call = undefined;
      const fatal =
        !this.#reconnect.everConnected &&
        error.code !== undefined &&
        this.#options.fatalStatusCodes.includes(error.code);
      if (!settled) {
        settled = true;
        reject?.(error);
      }
      if (fatal) return; // the provider is FATAL: no reconnect
      this.#reconnect.disconnected(error, this.#sink, () => this.#open());
    };
    call.on('error', (error: grpc.ServiceError) => lost(statusError(error)));
    call.on('end', () =>
      lost(
        Object.assign(new Error('flagd sync stream: the server closed the stream'), {
          code: 'CLOSED',
        }),
      ),
    );
  }
}
