import * as grpc from '@grpc/grpc-js';
import {
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  type SyncRequest,
  type SyncResponse,
} from '../../src/grpc/wire.js';

const definition: grpc.ServiceDefinition = {
  syncFlags: {
    path: '/flagd.sync.v1.FlagSyncService/SyncFlags',
    requestStream: false,
    responseStream: true,
    requestSerialize: (r: SyncRequest) => Buffer.from(encodeSyncRequest(r)),
    requestDeserialize: (b: Buffer) => decodeSyncRequest(b),
    responseSerialize: (r: SyncResponse) => Buffer.from(encodeSyncResponse(r)),
    responseDeserialize: (b: Buffer) => decodeSyncResponse(b),
  },
};

/** A flagd-like sync server on loopback: full snapshots, restartable on the same port. */
export class TestSyncServer {
  flags: string;
  syncContext: Record<string, never> | undefined;
  /** When set, every new stream fails with this status. */
  failWith: grpc.status | undefined;
  readonly requests: { request: SyncRequest; header: string | undefined }[] = [];
  port = 0;
  #server: grpc.Server | undefined;
  readonly #calls = new Set<grpc.ServerWritableStream<SyncRequest, SyncResponse>>();

  constructor(flags: object, syncContext?: Record<string, unknown>) {
    this.flags = JSON.stringify(flags);
    this.syncContext = syncContext as Record<string, never> | undefined;
  }

  async start(): Promise<this> {
    const server = new grpc.Server();
    server.addService(definition, {
      syncFlags: (call: grpc.ServerWritableStream<SyncRequest, SyncResponse>) => {
        const header = call.metadata.get('flagd-selector')[0];
        this.requests.push({
          request: call.request,
          header: header === undefined ? undefined : String(header),
        });
        if (this.failWith !== undefined) {
          call.emit('error', { code: this.failWith, details: 'refused by the test server' });
          return;
        }
        this.#calls.add(call);
        call.on('cancelled', () => this.#calls.delete(call));
        call.write(this.#snapshot());
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${this.port}`,
        grpc.ServerCredentials.createInsecure(),
        (error, port) => (error ? reject(error) : resolve(port)),
      ),
    );
    this.#server = server;
    return this;
  }

  /** Sends a new snapshot to every connected client. */
  push(flags: object): void {
    this.flags = JSON.stringify(flags);
    for (const call of this.#calls) call.write(this.#snapshot());
  }

  /** Sends raw text as the configuration (an invalid payload, say). */
  pushRaw(text: string): void {
    this.flags = text;
    for (const call of this.#calls) call.write(this.#snapshot());
  }

  /** Stops at once, dropping every stream (a crash or a restart). */
  async stop(): Promise<void> {
    for (const call of this.#calls) call.end();
    this.#calls.clear();
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  #snapshot(): SyncResponse {
    return {
      flagConfiguration: this.flags,
      ...(this.syncContext === undefined ? {} : { syncContext: this.syncContext }),
    };
  }
}
