import * as grpc from '@grpc/grpc-js';
import type {
  EvaluationContext,
  FlagMetadata,
  JsonObject,
  JsonValue,
  ResolutionDetails,
} from '@openfeature/core';
import { ErrorCode, StandardResolutionReasons } from '@openfeature/core';
import type { FlagdConfig } from '../provider/config.js';
import { asError } from '../sources/deliver.js';
import type { FlagSourceSink } from '../sources/flag-source.js';
import { Reconnector } from '../sources/reconnect.js';
import { channelFor, statusName, type ChannelOptions } from './channel.js';
import {
  decodeEventMessage,
  decodeResolveResponse,
  encodeResolveRequest,
  type EventMessage,
  type ResolveKind,
  type ResolveRequest,
  type ResolveResponse,
} from './evaluation-wire.js';
import { LruCache } from './rpc-cache.js';

/** The options the RPC resolver reads: flagd's, as the provider resolved them. @internal */
export type RpcResolverOptions = ChannelOptions &
  Pick<
    FlagdConfig,
    | 'selector'
    | 'deadlineMs'
    | 'streamDeadlineMs'
    | 'retryBackoffMs'
    | 'retryBackoffMaxMs'
    | 'retryGracePeriod'
    | 'fatalStatusCodes'
    | 'cache'
    | 'maxCacheSize'
  > & { readonly random?: () => number };

/** What the resolver tells the provider. Each call returns at once and must not throw. @internal */
export interface RpcListener {
  /** `provider_ready` after a reconnect (the first one settles `start` instead). */
  ready(): void;
  /** `configuration_change`, with the changed keys. */
  changed(flagsChanged: readonly string[]): void;
  /** The event stream was lost: cached results are still served. */
  stale(): void;
  /** Disconnected past the grace period (the cache is purged), or a message that does not decode. */
  error(error: Error): void;
}

/** v1 has the event stream everywhere; v2 says "no value" (a code default, DISABLED) as such. */
const V1 = '/flagd.evaluation.v1.Service';
const V2 = '/flagd.evaluation.v2.Service';

/** gRPC statuses flagd answers with, as OpenFeature error codes; anything else is GENERAL. */
const ERROR_CODES: Partial<Record<grpc.status, ErrorCode>> = {
  [grpc.status.NOT_FOUND]: ErrorCode.FLAG_NOT_FOUND,
  [grpc.status.INVALID_ARGUMENT]: ErrorCode.TYPE_MISMATCH,
  [grpc.status.DATA_LOSS]: ErrorCode.PARSE_ERROR,
};

/** The value flagd's v1 messages leave off the wire when it is the type's zero value. */
const ZERO: Readonly<Record<ResolveKind, JsonValue>> = {
  Boolean: false,
  String: '',
  Int: 0,
  Float: 0,
  Object: {},
};

type Received = EventMessage | { readonly problem: Error };
type Resolved = ResolveResponse | { readonly problem: Error };

/** Decodes without throwing: a deserializer that throws makes grpc-js fail the call. */
function decodeEvent(bytes: Buffer): Received {
  try {
    return decodeEventMessage(bytes);
  } catch (error) {
    return {
      problem: new Error(
        `flagd event stream: a message that does not decode (${asError(error).message})`,
      ),
    };
  }
}

/** The context as a protobuf Struct: JSON's view of it (dates as ISO strings, undefined left out). */
function contextStruct(context: EvaluationContext): JsonObject {
  return JSON.parse(JSON.stringify(context)) as JsonObject;
}

function failed<T>(value: T, errorCode: ErrorCode, errorMessage: string): ResolutionDetails<T> {
  return { value, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage };
}

/**
 * flagd's RPC mode: each evaluation is a unary `flagd.evaluation.v1.Service/Resolve<T>` call with
 * deadline `deadlineMs`; STATIC results are cached (LRU, `maxCacheSize`) while the `EventStream` is
 * up, and a cache hit reports reason CACHED. The stream drives the lifecycle as flagd's provider
 * specification has it: `provider_ready` is READY, `configuration_change` flushes the named keys
 * and is CONFIGURATION_CHANGED; a lost stream is STALE at once (the cache still answers), an error
 * after the grace period (the cache is purged), and READY again on reconnect (with a fresh cache).
 * A status in `fatalStatusCodes` before the first connection is fatal. Nothing throws out of an
 * evaluation or a stream handler. @internal
 */
export class RpcResolver {
  readonly #options: RpcResolverOptions;
  readonly #reconnect: Reconnector;
  readonly #cache: LruCache<ResolutionDetails<JsonValue>> | undefined;
  #client: grpc.Client | undefined;
  #call: grpc.ClientReadableStream<Received> | undefined;
  #listener: RpcListener | undefined;
  #connected = false;
  #stopped = false;
  /** `Resolve<T>` goes to v2 until a server answers UNIMPLEMENTED (a flagd before v2): then v1. */
  #resolveService = V2;

  constructor(options: RpcResolverOptions) {
    this.#options = options;
    this.#reconnect = new Reconnector({ ...options, random: options.random ?? Math.random });
    this.#cache = options.cache === 'lru' ? new LruCache(options.maxCacheSize) : undefined;
  }

  /** Opens the event stream; resolves on `provider_ready`, rejects on the first failure. */
  start(listener: RpcListener): Promise<void> {
    this.#listener = listener;
    this.#stopped = false;
    // the channel's own reconnect backoff follows flagd's options (grpc-js would wait up to 120 s)
    this.#client = channelFor(this.#options, {
      'grpc.initial_reconnect_backoff_ms': this.#options.retryBackoffMs,
      'grpc.max_reconnect_backoff_ms': this.#options.retryBackoffMaxMs,
    });
    return new Promise((resolve, reject) => this.#open(resolve, reject));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#connected = false;
    this.#reconnect.stop();
    this.#call?.cancel();
    this.#call = undefined;
    this.#client?.close();
    this.#cache?.clear();
    this.#listener = undefined;
  }

  /** Resolves one flag; never rejects: every failure is a result with reason ERROR. */
  async resolve<T extends JsonValue>(
    kind: ResolveKind,
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    const cached = this.#cache?.get(flagKey);
    if (cached !== undefined && typeof cached.value === typeof defaultValue)
      return { ...(cached as ResolutionDetails<T>), reason: StandardResolutionReasons.CACHED };
    let request: ResolveRequest;
    try {
      request = { flagKey, context: contextStruct(context) };
    } catch (error) {
      return failed(defaultValue, ErrorCode.INVALID_CONTEXT, asError(error).message);
    }
    let response = await this.#unary(kind, request);
    if (this.#isUnimplemented(response) && this.#resolveService === V2) {
      this.#resolveService = V1;
      response = await this.#unary(kind, request);
    }
    if ('problem' in response) {
      const code = (response.problem as { code?: grpc.status }).code;
      return failed(
        defaultValue,
        (code === undefined ? undefined : ERROR_CODES[code]) ?? ErrorCode.GENERAL,
        response.problem.message,
      );
    }
    const details = this.#details(kind, defaultValue, response);
    if (details.reason === StandardResolutionReasons.STATIC && this.#connected)
      this.#cache?.set(flagKey, details);
    return details;
  }

  #isUnimplemented(response: Resolved): boolean {
    return (
      'problem' in response &&
      (response.problem as { code?: grpc.status }).code === grpc.status.UNIMPLEMENTED
    );
  }

  #details<T>(kind: ResolveKind, defaultValue: T, response: ResolveResponse): ResolutionDetails<T> {
    const { reason, metadata } = response;
    const variant = response.variant === '' ? undefined : response.variant;
    // v1 leaves a zero value off the wire; no value and no variant is the code default
    const value =
      response.value !== undefined
        ? (response.value as T)
        : variant === undefined
          ? defaultValue
          : (ZERO[kind] as T);
    return {
      value,
      reason,
      ...(variant === undefined ? {} : { variant }),
      flagMetadata: metadata as FlagMetadata,
    };
  }

  #metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.#options.selector !== null) metadata.set('flagd-selector', this.#options.selector);
    return metadata;
  }

  #unary(kind: ResolveKind, request: ResolveRequest): Promise<Resolved> {
    const client = this.#client;
    if (client === undefined)
      return Promise.resolve({ problem: new Error('the flagd RPC resolver is not started') });
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        `${this.#resolveService}/Resolve${kind}`,
        (message: ResolveRequest) => Buffer.from(encodeResolveRequest(message)),
        (bytes: Buffer): Resolved => {
          try {
            return decodeResolveResponse(kind, bytes);
          } catch (error) {
            return { problem: Object.assign(asError(error), { code: grpc.status.DATA_LOSS }) };
          }
        },
        request,
        this.#metadata(),
        { deadline: Date.now() + this.#options.deadlineMs },
        (error, response) => {
          if (error !== null)
            resolve({
              problem: Object.assign(new Error(`${statusName(error)}: ${error.details}`), {
                code: error.code,
              }),
            });
          else resolve(response ?? { problem: new Error('no response') });
        },
      );
    });
  }

  /** Where the reconnector reports: STALE keeps the cache, the grace-period error purges it. */
  readonly #sink: FlagSourceSink = {
    configuration: () => undefined,
    stale: () => this.#listener?.stale(),
    error: (error) => {
      this.#cache?.clear();
      this.#listener?.error(error);
    },
  };

  #open(resolve?: () => void, reject?: (error: Error) => void): void {
    const client = this.#client;
    if (client === undefined || this.#stopped) return;
    const { streamDeadlineMs } = this.#options;
    const call = client.makeServerStreamRequest(
      `${V1}/EventStream`,
      () => Buffer.alloc(0),
      decodeEvent,
      {},
      this.#metadata(),
      streamDeadlineMs > 0 ? { deadline: Date.now() + streamDeadlineMs } : {},
    );
    this.#call = call;
    let settled = false;
    call.on('data', (received: Received) => {
      if (call !== this.#call || this.#stopped) return;
      if ('problem' in received) return this.#safely(() => this.#listener?.error(received.problem));
      if (received.type === 'provider_ready') {
        this.#reconnect.connected();
        this.#connected = true;
        this.#cache?.clear();
        const starting = !settled && resolve !== undefined;
        settled = true;
        if (starting) resolve();
        else this.#safely(() => this.#listener?.ready());
      } else if (received.type === 'configuration_change') {
        const flags = received.data?.['flags'];
        const keys = typeof flags === 'object' && flags !== null ? Object.keys(flags) : [];
        for (const key of keys) this.#cache?.delete(key);
        this.#safely(() => this.#listener?.changed(keys));
      }
    });
    const lost = (error: Error & { code?: string }) => {
      if (call !== this.#call || this.#stopped) return;
      this.#call = undefined;
      this.#connected = false;
      const fatal = this.#reconnect.isFatal(error.code, this.#options.fatalStatusCodes);
      if (!settled) {
        settled = true;
        reject?.(error);
      }
      if (fatal) return; // the provider is FATAL: no reconnect
      this.#reconnect.disconnected(error, this.#sink, () => this.#open());
    };
    call.on('error', (error: grpc.ServiceError) => {
      const name = statusName(error);
      lost(
        Object.assign(new Error(`flagd event stream: ${name}: ${error.details}`), { code: name }),
      );
    });
    call.on('end', () =>
      lost(
        Object.assign(new Error('flagd event stream: the server closed the stream'), {
          code: 'CLOSED',
        }),
      ),
    );
  }

  #safely(tell: () => void): void {
    try {
      tell();
    } catch {
      // a listener that throws has nothing more to say
    }
  }
}
