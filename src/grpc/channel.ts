import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { FlagdConfig } from '../provider/config.js';
import type { SyncRequest } from './wire.js';

/** The connection options every flagd gRPC client reads. @internal */
export type ChannelOptions = Pick<
  FlagdConfig,
  | 'host'
  | 'port'
  | 'targetUri'
  | 'defaultAuthority'
  | 'socketPath'
  | 'tls'
  | 'certPath'
  | 'keepAliveTime'
  | 'retryBackoffMs'
  | 'retryBackoffMaxMs'
>;

/** The flagd services a provider calls: the retry policy covers each of them. */
const FLAGD_SERVICES = [
  'flagd.evaluation.v1.Service',
  'flagd.evaluation.v2.Service',
  'flagd.sync.v1.FlagSyncService',
];

/** Milliseconds as a protobuf Duration's JSON (`"0.25s"`), at least 1 ms (gRPC refuses 0). */
const duration = (ms: number): string => `${Math.max(1, Math.round(ms)) / 1000}s`;

/**
 * gRPC's per-call retry policy, as flagd's providers configure it (flagd-spec §f): a call that
 * fails with UNAVAILABLE before any answer is tried again, up to 3 attempts (the JS provider's
 * count), backing off from `retryBackoffMs` to `retryBackoffMaxMs`, doubling, within the call's
 * deadline. So a server restarting behind a load balancer costs an evaluation a wait, not an
 * error. flagd's providers retry UNKNOWN too, but flagd answers a broken flag (GENERAL) with
 * UNKNOWN: retried, it costs the whole deadline and ends as DEADLINE_EXCEEDED, losing the
 * server's message. rampflag returns that answer at once.
 * @internal
 */
export function retryServiceConfig(
  options: Pick<FlagdConfig, 'retryBackoffMs' | 'retryBackoffMaxMs'>,
): string {
  const initial = Math.max(1, options.retryBackoffMs);
  return JSON.stringify({
    methodConfig: [
      {
        name: FLAGD_SERVICES.map((service) => ({ service })),
        retryPolicy: {
          maxAttempts: 3,
          initialBackoff: duration(initial),
          maxBackoff: duration(Math.max(initial, options.retryBackoffMaxMs)),
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  });
}

const ENVOY = /^envoy:\/\/([^/]+)\/(.+)$/;

/**
 * Where to connect, and the `:authority` to send: a unix socket, a target URI, or host:port.
 * `envoy://proxy:9211/flagd-sync.service` connects to the proxy with the service as authority, as
 * flagd's Go and Java providers resolve it; other URIs go to gRPC's own resolvers.
 */
function targetOf(options: ChannelOptions): { target: string; authority: string | null } {
  const authority = options.defaultAuthority;
  if (options.socketPath !== null) return { target: `unix:${options.socketPath}`, authority };
  const envoy = options.targetUri === null ? null : ENVOY.exec(options.targetUri);
  if (envoy !== null)
    return { target: envoy[1] as string, authority: authority ?? (envoy[2] as string) };
  return { target: options.targetUri ?? `${options.host}:${options.port}`, authority };
}

function credentialsOf(options: ChannelOptions): grpc.ChannelCredentials {
  if (!options.tls) return grpc.credentials.createInsecure();
  const ca = options.certPath === null ? undefined : readFileSync(options.certPath);
  return grpc.credentials.createSsl(ca);
}

/** A gRPC failure's status name (`UNAVAILABLE`, `PERMISSION_DENIED`, …). @internal */
export function statusName(error: grpc.ServiceError): string {
  return grpc.status[error.code] ?? String(error.code);
}

/**
 * The largest sync message a client takes: a configuration of the evaluator's 16 MiB limit, with
 * room for its sync context and framing. @internal
 */
export const MAX_SYNC_MESSAGE_BYTES = 16 * 1024 * 1024 + 1024 * 1024;

/**
 * A gRPC client for flagd's options. With `keepAliveTime`, HTTP/2 pings go every `keepAliveTime`
 * ms, and a ping not answered within as long again ends the connection, so a silent network
 * partition is noticed within about twice `keepAliveTime` (gRPC's default would wait 20 s).
 * Calls that fail before any answer are retried ({@link retryServiceConfig}). `extra` adds channel
 * options (the RPC resolver's reconnect backoff).
 * @internal
 */
export function channelFor(options: ChannelOptions, extra: grpc.ChannelOptions = {}): grpc.Client {
  const { keepAliveTime } = options;
  const { target, authority } = targetOf(options);
  const channelOptions: grpc.ChannelOptions = {
    // a configuration may be as large as the evaluator accepts (16 MiB), not gRPC's default 4 MiB
    'grpc.max_receive_message_length': MAX_SYNC_MESSAGE_BYTES,
    ...(keepAliveTime > 0
      ? { 'grpc.keepalive_time_ms': keepAliveTime, 'grpc.keepalive_timeout_ms': keepAliveTime }
      : {}),
    ...(authority === null ? {} : { 'grpc.default_authority': authority }),
    'grpc.service_config': retryServiceConfig(options),
    ...extra,
  };
  return new grpc.Client(target, credentialsOf(options), channelOptions);
}

/**
 * A sync request's body and metadata: the selector goes in the `Flagd-Selector` header and, for
 * older servers, in the deprecated body field too; the provider id in the body.
 * @internal
 */
export function syncRequestOf(options: Pick<FlagdConfig, 'selector' | 'providerId'>): {
  request: SyncRequest;
  metadata: grpc.Metadata;
} {
  const { selector, providerId } = options;
  const metadata = new grpc.Metadata();
  if (selector !== null) metadata.set('flagd-selector', selector);
  const request: SyncRequest = {
    ...(providerId === null ? {} : { providerId }),
    ...(selector === null ? {} : { selector }),
  };
  return { request, metadata };
}
