import * as grpc from '@grpc/grpc-js';
import { resolveConfig, type FlagdConfig, type FlagdProviderOptions } from '../provider/config.js';
import { channelFor, syncRequestOf } from './channel.js';
import { decodeSyncResponse, encodeSyncRequest, type SyncRequest } from './wire.js';

const FETCH_ALL = '/flagd.sync.v1.FlagSyncService/FetchAllFlags';

/**
 * One `flagd.sync.v1.FlagSyncService/FetchAllFlags` call: the complete flag configuration (JSON
 * text) a flagd-compatible server holds now, for the provider's `selector`, within `deadlineMs`.
 * For tools and scripts that need a snapshot, not a subscription (a running service wants
 * `FlagdProvider` in in-process mode, which streams). Options and `FLAGD_*` variables as the
 * provider reads them; the port defaults to the sync port, 8015. Rejects with the gRPC status.
 *
 * @example
 * const json = await fetchAllFlags({ host: 'flagd.internal', selector: 'flagSetId=checkout' });
 */
export async function fetchAllFlags(options: FlagdProviderOptions = {}): Promise<string> {
  const config: FlagdConfig = resolveConfig({ resolverType: 'in-process', ...options });
  const client = channelFor(config);
  const { request, metadata } = syncRequestOf(config);
  try {
    return await new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest(
        FETCH_ALL,
        (message: SyncRequest) => Buffer.from(encodeSyncRequest(message)),
        (bytes: Buffer) => decodeSyncResponse(bytes).flagConfiguration,
        request,
        metadata,
        { deadline: Date.now() + config.deadlineMs },
        (error, value) =>
          error
            ? reject(
                Object.assign(
                  new Error(`flagd FetchAllFlags: ${grpc.status[error.code]}: ${error.details}`),
                  { code: grpc.status[error.code], cause: error },
                ),
              )
            : resolve(value as string),
      ),
    );
  } finally {
    client.close();
  }
}
