import type * as grpc from '@grpc/grpc-js';
import type { FlagdConfig } from '../provider/config.js';
import { asError, deliver, report } from '../sources/deliver.js';
import type { FlagSource, FlagSourceSink } from '../sources/flag-source.js';
import { Reconnector } from '../sources/reconnect.js';
import { channelFor, statusName, syncRequestOf, type ChannelOptions } from './channel.js';
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
  const name = statusName(error);
  return Object.assign(new Error(`flagd sync stream: ${name}: ${error.details || error.message}`), {
    code: name,
  });
}

/** One message of the stream, decoded, or why it could not be. */
type Received = SyncResponse | { readonly problem: Error };

/**
 * Decodes a message without throwing: a deserializer that throws makes grpc-js cancel the stream,
 * and one bad message should cost an error report, not the connection.
 */
function decodeReceived(bytes: Buffer): Received {
  try {
    return decodeSyncResponse(bytes);
  } catch (error) {
    return {
      problem: new Error(
        `flagd sync stream: a message that is not a valid SyncFlagsResponse (${asError(error).message}); serving the last good flags`,
        { cause: error },
      ),
    };
  }
}

/**
 * flagd's `flagd.sync.v1.FlagSyncService/SyncFlags` stream: every message a full snapshot with its
 * sync context. On a disconnect (an error, a server closing the stream, the stream deadline) it is
 * STALE at once, reconnects with capped exponential backoff and jitter, and reports an error if still
 * disconnected after the grace period; the provider keeps serving the last good flags throughout.
 * A status in `fatalStatusCodes` on the first connection is fatal. Nothing a server sends can throw
 * out of the stream's handlers: a message that does not decode or a configuration that does not load
 * is reported as an error, and the last good flags stay.
 */
export class GrpcSyncSource implements FlagSource {
  readonly #options: GrpcSyncOptions;
  readonly #reconnect: Reconnector;
  #client: grpc.Client | undefined;
  #call: grpc.ClientReadableStream<Received> | undefined;
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
      decodeReceived,
      request,
      metadata,
      callOptions,
    );
    this.#call = call;
    let settled = false;
    call.on('data', (received: Received) => {
      this.#reconnect.connected();
      const sink = this.#sink;
      if (sink === undefined) return;
      const problem =
        'problem' in received
          ? received.problem
          : deliver(sink, received.flagConfiguration, received.syncContext);
      if (settled) {
        if (problem !== undefined) report(sink, problem);
        return;
      }
      settled = true;
      if (problem === undefined) resolve?.();
      else reject?.(problem);
    });
    const lost = (error: Error & { code?: string }) => {
      if (call !== this.#call || this.#stopped) return;
      this.#call = undefined;
      const fatal = this.#reconnect.isFatal(error.code, this.#options.fatalStatusCodes);
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
