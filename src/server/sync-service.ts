import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@openfeature/core';
import { decodeSyncRequest, type SyncRequest } from '../grpc/wire.js';
import { parseSelector, type Selector } from './selector.js';

const SERVICE = '/flagd.sync.v1.FlagSyncService/';

/** A `SyncFlags` call: the server writes encoded `SyncFlagsResponse` messages to it. @internal */
export type SyncCall = grpc.ServerWritableStream<SyncRequest, Uint8Array>;

/** What the sync service asks of the server. @internal */
export interface SyncHandlers {
  /** A client subscribed: send it the current snapshot and every change of its selection. */
  subscribe(call: SyncCall, selector: Selector): void;
  /** The encoded `FetchAllFlagsResponse` of a selection. */
  fetchAll(selector: Selector): Uint8Array;
  /** The encoded `GetMetadataResponse`, or undefined when it is disabled (UNIMPLEMENTED). */
  metadata(): Uint8Array | undefined;
}

/** The selector of a request: the Flagd-Selector header wins over the deprecated body field. */
function selectorOf(call: { metadata: grpc.Metadata; request: SyncRequest }): Selector | Error {
  const header = call.metadata.get('flagd-selector')[0];
  try {
    return parseSelector(typeof header === 'string' ? header : call.request.selector);
  } catch (error) {
    return error as Error;
  }
}

const method = (name: string, responseStream: boolean) => ({
  path: `${SERVICE}${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: () => Buffer.alloc(0),
  requestDeserialize: (bytes: Buffer) => decodeSyncRequest(bytes),
  responseSerialize: (message: Uint8Array) =>
    Buffer.from(message.buffer, message.byteOffset, message.length),
  responseDeserialize: (bytes: Buffer) => bytes,
});

/**
 * Adds `flagd.sync.v1.FlagSyncService` to a gRPC server: `SyncFlags`, `FetchAllFlags` and the
 * deprecated `GetMetadata`, with messages encoded by rampflag's own codec. An invalid selector is
 * INVALID_ARGUMENT, as in flagd; anything else that fails is INTERNAL for that call alone.
 * @internal
 */
export function addSyncService(server: grpc.Server, logger: Logger, handlers: SyncHandlers): void {
  const internal = (error: unknown) => {
    const details = `the flag server failed: ${(error as Error).message}`;
    logger.warn(`flag server: ${details}`);
    return { code: grpc.status.INTERNAL, details };
  };
  server.addService(
    {
      syncFlags: method('SyncFlags', true),
      fetchAllFlags: method('FetchAllFlags', false),
      getMetadata: method('GetMetadata', false),
    },
    {
      syncFlags: (call: SyncCall) => {
        const selector = selectorOf(call);
        if (selector instanceof Error)
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: selector.message });
        else
          try {
            handlers.subscribe(call, selector);
          } catch (error) {
            call.emit('error', internal(error));
          }
      },
      fetchAllFlags: (
        call: grpc.ServerUnaryCall<SyncRequest, Uint8Array>,
        callback: grpc.sendUnaryData<Uint8Array>,
      ) => {
        const selector = selectorOf(call);
        if (selector instanceof Error)
          return callback({ code: grpc.status.INVALID_ARGUMENT, details: selector.message });
        let response: Uint8Array;
        try {
          response = handlers.fetchAll(selector);
        } catch (error) {
          return callback(internal(error));
        }
        callback(null, response);
      },
      getMetadata: (_call: unknown, callback: grpc.sendUnaryData<Uint8Array>) => {
        const metadata = handlers.metadata();
        if (metadata === undefined)
          callback({
            code: grpc.status.UNIMPLEMENTED,
            details: 'GetMetadata is disabled; read sync_context',
          });
        else callback(null, metadata);
      },
    },
  );
}
