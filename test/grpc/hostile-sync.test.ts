import * as grpc from '@grpc/grpc-js';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FlagdProvider } from 'rampflag';
import { MAX_STRUCT_DEPTH, decodeStruct, encodeSyncResponse } from '../../src/grpc/wire.js';
import { clientFor, until } from '../support/provider-events.js';
import { inProcessProvider, syncFlags } from '../support/sync-flags.js';

afterAll(() => OpenFeature.close());

/** A sync server that sends whatever bytes it is given, as a broken or hostile flagd might. */
class RawSyncServer {
  current: Buffer;
  streams = 0;
  port = 0;
  readonly #server = new grpc.Server();
  readonly #calls = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();

  constructor(initial: Buffer) {
    this.current = initial;
  }

  async start(): Promise<this> {
    const identity = (b: Buffer) => b;
    this.#server.addService(
      {
        syncFlags: {
          path: '/flagd.sync.v1.FlagSyncService/SyncFlags',
          requestStream: false,
          responseStream: true,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      {
        syncFlags: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          this.streams++;
          this.#calls.add(call);
          call.on('cancelled', () => this.#calls.delete(call));
          call.write(this.current);
        },
      },
    );
    this.port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) =>
        e ? reject(e) : resolve(port),
      ),
    );
    return this;
  }

  push(bytes: Buffer): void {
    this.current = bytes;
    for (const call of this.#calls) call.write(bytes);
  }

  stop(): void {
    for (const call of this.#calls) call.end();
    this.#server.forceShutdown();
  }
}

const message = (flags: object | string, syncContext?: Record<string, never>) =>
  Buffer.from(
    encodeSyncResponse({
      flagConfiguration: typeof flags === 'string' ? flags : JSON.stringify(flags),
      ...(syncContext === undefined ? {} : { syncContext }),
    }),
  );

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/**
 * A Struct nested `depth` levels (2 is {"a": {}}), encoded without recursion: lengths from the
 * inside out, then bytes from the outside in.
 */
function deepStruct(depth: number): number[] {
  const structLengths: number[] = [0]; // [i]: the length of the Struct i levels from the inside
  const entryLengths: number[] = [];
  const valueLengths: number[] = [];
  for (let i = 0; i < depth - 1; i++) {
    const inner = structLengths[i] as number;
    const value = 1 + varint(inner).length + inner; // Value.struct_value (5)
    const entry = 3 + 1 + varint(value).length + value; // key "a" (1), value (2)
    valueLengths.push(value);
    entryLengths.push(entry);
    structLengths.push(1 + varint(entry).length + entry); // Struct.fields (1)
  }
  const bytes: number[] = [];
  for (let i = depth - 2; i >= 0; i--) {
    bytes.push(0x0a, ...varint(entryLengths[i] as number), 0x0a, 0x01, 0x61);
    bytes.push(0x12, ...varint(valueLengths[i] as number));
    bytes.push(0x2a, ...varint(structLengths[i] as number));
  }
  return bytes;
}

/** A SyncFlagsResponse whose sync context is nested `depth` levels deep. */
function deepSyncContext(depth: number): Buffer {
  const struct = deepStruct(depth);
  return Buffer.from([0x0a, 0x02, 0x7b, 0x7d, 0x12, ...varint(struct.length), ...struct]);
}

describe('GrpcSyncSource against a sync server that sends garbage', () => {
  const servers: RawSyncServer[] = [];
  const providers: FlagdProvider[] = [];
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.onClose()));
    for (const server of servers.splice(0)) server.stop();
  });
  const serve = async () => {
    const server = await new RawSyncServer(message(syncFlags('red'))).start();
    servers.push(server);
    const provider = inProcessProvider(server.port);
    providers.push(provider);
    return { server, ...(await clientFor(provider)) };
  };

  it('refuses a Struct nested deeper than MAX_STRUCT_DEPTH, and takes one at it', () => {
    const decode = (depth: number) => decodeStruct(Uint8Array.from(deepStruct(depth)));
    expect(() => decode(MAX_STRUCT_DEPTH + 1)).toThrow(/nested deeper than 128/);
    expect(decode(3)).toEqual({ a: { a: {} } });
    expect(() => decode(MAX_STRUCT_DEPTH)).not.toThrow();
  });

  it.each([
    ['bytes that are not a message', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x61])],
    ['a configuration that is not UTF-8', Buffer.from([0x0a, 0x02, 0xc3, 0x28])],
    ['an unsupported wire type', Buffer.from([0x0f, 0x01])],
    ['a sync context nested 100,000 deep', deepSyncContext(100_000)],
    ['a sync context that is not a Struct', Buffer.from([0x0a, 0x00, 0x12, 0x02, 0x0a, 0x09])],
  ])(
    'reports %s as an error on the same stream and keeps the last good flags',
    async (_, bytes) => {
      const { server, client, events } = await serve();
      server.push(bytes);
      await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
      expect(String(events.find(([e]) => e === ProviderEvents.Error)?.[1]?.message)).toMatch(
        /not a valid SyncFlagsResponse/,
      );
      expect(await client.getStringValue('color', '')).toBe('red');
      server.push(message(syncFlags('blue')));
      await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event');
      expect(await client.getStringValue('color', '')).toBe('blue');
      expect(server.streams).toBe(1); // one bad message did not cost the connection
    },
  );

  it('fails the start, then becomes READY, when the first message is garbage', async () => {
    const server = await new RawSyncServer(Buffer.from([0x0a, 0x7f])).start();
    servers.push(server);
    const provider = inProcessProvider(server.port);
    providers.push(provider);
    await expect(provider.initialize()).rejects.toThrow(/not a valid SyncFlagsResponse/);
    const ready = new Promise((resolve) =>
      provider.events.addHandler(ProviderEvents.Ready, resolve),
    );
    server.push(message(syncFlags('green')));
    await ready;
    expect((await provider.resolveStringEvaluation('color', '', {})).value).toBe('green');
  });
});
