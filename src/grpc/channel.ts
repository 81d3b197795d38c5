import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { FlagdConfig } from '../provider/config.js';

/** The connection options every flagd gRPC client reads. @internal */
export type ChannelOptions = Pick<
  FlagdConfig,
  'host' | 'port' | 'targetUri' | 'socketPath' | 'tls' | 'certPath' | 'keepAliveTime'
>;

/** Where to connect: a unix socket, a target URI, or host:port. */
function targetOf(options: ChannelOptions): string {
  if (options.socketPath !== null) return `unix:${options.socketPath}`;
  if (options.targetUri !== null) return options.targetUri;
  return `${options.host}:${options.port}`;
}

function credentialsOf(options: ChannelOptions): grpc.ChannelCredentials {
  if (!options.tls) return grpc.credentials.createInsecure();
  const ca = options.certPath === null ? undefined : readFileSync(options.certPath);
  return grpc.credentials.createSsl(ca);
}

/**
 * A gRPC client for flagd's options. With `keepAliveTime`, HTTP/2 pings go every `keepAliveTime`
 * ms, and a ping not answered within as long again ends the connection, so a silent network
 * partition is noticed within about twice `keepAliveTime` (gRPC's default would wait 20 s).
 * @internal
 */
export function channelFor(options: ChannelOptions): grpc.Client {
  const { keepAliveTime } = options;
  const channelOptions: grpc.ChannelOptions =
    keepAliveTime > 0
      ? { 'grpc.keepalive_time_ms': keepAliveTime, 'grpc.keepalive_timeout_ms': keepAliveTime }
      : {};
  return new grpc.Client(targetOf(options), credentialsOf(options), channelOptions);
}
