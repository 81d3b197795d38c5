import * as grpc from '@grpc/grpc-js';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { retryServiceConfig } from '../../src/grpc/channel.js';
import {
  decodeResolveRequest,
  encodeEventMessage,
  encodeResolveResponse,
  type EventMessage,
  type ResolveRequest,
  type ResolveResponse,
} from '../../src/grpc/evaluation-wire.js';
import { FlagdProvider } from '../../src/index.js';

const bytes = (b: Uint8Array) => Buffer.from(b);

/**
 * flagd's evaluation v1 service with a fault: `ResolveBoolean` answers `failures` calls with
 * `code` before it answers with `true`; v2 is not served (the provider falls back to v1).
 */
class FlakyEvaluation {
  failures = 0;
  code = grpc.status.UNAVAILABLE;
  calls = 0;
  port = 0;
  readonly #server = new grpc.Server();

  async start(): Promise<this> {
    const definition: grpc.ServiceDefinition = {
      EventStream: {
        path: '/flagd.evaluation.v1.Service/EventStream',
        requestStream: false,
        responseStream: true,
        requestSerialize: () => Buffer.alloc(0),
        requestDeserialize: () => ({}),
        responseSerialize: (m: EventMessage) => bytes(encodeEventMessage(m)),
        responseDeserialize: () => ({}),
      },
      ResolveBoolean: {
        path: '/flagd.evaluation.v1.Service/ResolveBoolean',
        requestStream: false,
        responseStream: false,
        requestSerialize: () => Buffer.alloc(0),
        requestDeserialize: (b: Buffer) => decodeResolveRequest(b),
        responseSerialize: (r: ResolveResponse) => bytes(encodeResolveResponse('Boolean', r)),
        responseDeserialize: () => ({}),
      },
    };
    this.#server.addService(definition, {
      EventStream: (call: grpc.ServerWritableStream<unknown, EventMessage>) => {
        call.write({ type: 'provider_ready' });
      },
      ResolveBoolean: (
        _call: grpc.ServerUnaryCall<ResolveRequest, ResolveResponse>,
        done: grpc.sendUnaryData<ResolveResponse>,
      ) => {
        this.calls++;
        if (this.calls <= this.failures) done({ code: this.code, details: 'flaky' });
        else done(null, { value: true, reason: 'STATIC', variant: 'on', metadata: {} });
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    return this;
  }

  stop(): void {
    this.#server.forceShutdown();
  }
}

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});
afterAll(() => OpenFeature.close());

let domains = 0;
async function clientOf(server: FlakyEvaluation) {
  const provider = new FlagdProvider({
    resolverType: 'rpc',
    host: '127.0.0.1',
    port: server.port,
    cache: 'disabled',
    retryBackoffMs: 10,
    retryBackoffMaxMs: 40,
  });
  stops.push(() => provider.onClose());
  const domain = `retry-${++domains}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  return OpenFeature.getClient(domain);
}

describe("the RPC resolver's per-call retry policy (UNAVAILABLE, 3 attempts)", () => {
  it('answers after two UNAVAILABLE failures, on the third attempt', async () => {
    const server = await new FlakyEvaluation().start();
    stops.push(() => server.stop());
    server.failures = 2;
    const client = await clientOf(server);
    const details = await client.getBooleanDetails('flag', false);
    expect(details).toMatchObject({ value: true, variant: 'on', reason: 'STATIC' });
    expect(server.calls).toBe(3);
  });

  it('gives up after three attempts, with the error and the caller default', async () => {
    const server = await new FlakyEvaluation().start();
    stops.push(() => server.stop());
    server.failures = 5;
    const client = await clientOf(server);
    const details = await client.getBooleanDetails('flag', false);
    expect(details).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'GENERAL' });
    expect(details.errorMessage).toMatch(/UNAVAILABLE|flaky/);
    expect(server.calls).toBe(3);
  });

  it.each([
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT],
    // flagd's answer for a broken flag (GENERAL): retrying it only burns the deadline
    ['UNKNOWN', grpc.status.UNKNOWN],
  ])('answers %s at once, with the server message, never retried', async (_name, code) => {
    const server = await new FlakyEvaluation().start();
    stops.push(() => server.stop());
    Object.assign(server, { failures: 1, code });
    const client = await clientOf(server);
    const started = Date.now();
    const details = await client.getBooleanDetails('flag', false);
    expect(details).toMatchObject({ value: false, reason: 'ERROR' });
    expect(details.errorMessage).toMatch(/flaky/);
    expect(Date.now() - started).toBeLessThan(300);
    expect(server.calls).toBe(1);
  });

  it('writes the policy with the backoff options, never a zero gRPC would refuse', () => {
    const config = JSON.parse(retryServiceConfig({ retryBackoffMs: 0, retryBackoffMaxMs: 0 }));
    const [method] = config.methodConfig;
    expect(method.name.map((n: { service: string }) => n.service)).toEqual([
      'flagd.evaluation.v1.Service',
      'flagd.evaluation.v2.Service',
      'flagd.sync.v1.FlagSyncService',
    ]);
    expect(method.retryPolicy).toEqual({
      maxAttempts: 3,
      initialBackoff: '0.001s',
      maxBackoff: '0.001s',
      backoffMultiplier: 2,
      retryableStatusCodes: ['UNAVAILABLE'],
    });
    const given = JSON.parse(
      retryServiceConfig({ retryBackoffMs: 1000, retryBackoffMaxMs: 120000 }),
    );
    expect(given.methodConfig[0].retryPolicy).toMatchObject({
      initialBackoff: '1s',
      maxBackoff: '120s',
    });
  });
});
