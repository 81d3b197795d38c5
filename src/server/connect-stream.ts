import type { IncomingMessage, ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { GrpcServerStream } from './grpc-evaluation.js';
import { MAX_GRPC_REQUEST_BYTES } from './grpc-evaluation.js';
import { pathOf, readBytes, sendJson } from './http-util.js';

/** The `EventStream` paths the Connect streaming protocol serves. */
const PATH = /^\/(flagd\.evaluation\.v[12]|schema\.v1)\.Service\/EventStream$/;
const CONTENT_TYPE = /^application\/connect\+(json|proto)\s*(;.*)?$/i;

/** How an `EventStream` call's messages are encoded: Connect's `+json` or `+proto`. @internal */
export type ConnectFormat = 'json' | 'proto';

/** The Connect streaming protocol's flag for the end-of-stream message. */
const END_STREAM = 0x02;

/** gRPC status codes as Connect names them (Connect protocol, "Error Codes"). @internal */
export const CONNECT_CODES: Readonly<Record<number, string>> = {
  [grpc.status.CANCELLED]: 'canceled',
  [grpc.status.UNKNOWN]: 'unknown',
  [grpc.status.INVALID_ARGUMENT]: 'invalid_argument',
  [grpc.status.DEADLINE_EXCEEDED]: 'deadline_exceeded',
  [grpc.status.NOT_FOUND]: 'not_found',
  [grpc.status.ALREADY_EXISTS]: 'already_exists',
  [grpc.status.PERMISSION_DENIED]: 'permission_denied',
  [grpc.status.RESOURCE_EXHAUSTED]: 'resource_exhausted',
  [grpc.status.FAILED_PRECONDITION]: 'failed_precondition',
  [grpc.status.ABORTED]: 'aborted',
  [grpc.status.OUT_OF_RANGE]: 'out_of_range',
  [grpc.status.UNIMPLEMENTED]: 'unimplemented',
  [grpc.status.INTERNAL]: 'internal',
  [grpc.status.UNAVAILABLE]: 'unavailable',
  [grpc.status.DATA_LOSS]: 'data_loss',
  [grpc.status.UNAUTHENTICATED]: 'unauthenticated',
};

/** What the Connect `EventStream` needs from the server. @internal */
export interface ConnectStreamDeps {
  /** Checks a request's `Flagd-Selector`; throws a RangeError for a bad one. */
  pick(req: IncomingMessage): unknown;
  /** An `EventStream` call whose response headers are sent. */
  subscribe(call: GrpcServerStream, req: IncomingMessage, format: ConnectFormat): void;
}

/** A message in the Connect streaming protocol's envelope: flags, big-endian length, bytes. @internal */
export function envelope(flags: number, message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame.writeUInt8(flags, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The end-of-stream message: `{}` for success, `{"error": {code, message}}` otherwise. */
function endStream(code: grpc.status, details: string): Buffer {
  const body =
    code === grpc.status.OK
      ? {}
      : { error: { code: CONNECT_CODES[code] ?? 'unknown', message: details } };
  return envelope(END_STREAM, Buffer.from(JSON.stringify(body)));
}

type Refusal = { readonly code: grpc.status; readonly details: string };

/** Checks the request's one enveloped message: an `EventStreamRequest` has no fields to read. */
function checkRequest(body: Buffer | undefined, format: ConnectFormat): Refusal | undefined {
  if (body === undefined)
    return {
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: `request message over ${MAX_GRPC_REQUEST_BYTES} bytes`,
    };
  if (body.length < 5)
    return {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'expected one enveloped request message',
    };
  if (body[0] !== 0)
    return {
      code: body[0] === 1 ? grpc.status.UNIMPLEMENTED : grpc.status.INVALID_ARGUMENT,
      details: body[0] === 1 ? 'compressed messages are not supported' : 'bad envelope flags',
    };
  if (body.readUInt32BE(1) !== body.length - 5)
    return { code: grpc.status.INVALID_ARGUMENT, details: 'expected exactly one request message' };
  if (format === 'proto') return undefined;
  try {
    const message: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(5)),
    );
    if (typeof message === 'object' && message !== null && !Array.isArray(message))
      return undefined;
  } catch {
    // reported below
  }
  return {
    code: grpc.status.INVALID_ARGUMENT,
    details: 'the request message is not a JSON object',
  };
}

/** A Connect response stream: enveloped messages, then the end-of-stream message. */
function open(res: ServerResponse, format: ConnectFormat): GrpcServerStream {
  res.writeHead(200, { 'Content-Type': `application/connect+${format}` });
  res.flushHeaders();
  return {
    write: (message, done) => {
      if (res.destroyed || res.writableEnded) return done(new Error('the stream is closed'));
      res.write(envelope(0, message), done);
    },
    end: (code, details) => {
      if (res.destroyed || res.writableEnded) return;
      res.end(endStream(code, details));
    },
    reset: () => res.destroy(),
    onClose: (listener) => res.once('close', listener),
  };
}

/** A call refused before its stream opens: HTTP 200 and the end-of-stream message alone. */
function refuse(res: ServerResponse, format: ConnectFormat, refusal: Refusal): void {
  res
    .writeHead(200, { 'Content-Type': `application/connect+${format}` })
    .end(endStream(refusal.code, refusal.details));
}

/**
 * The evaluation service's `EventStream` in the Connect streaming protocol, as flagd serves it to
 * `@openfeature/flagd-web-provider` (connect-web): `application/connect+json` or `+proto`, one
 * enveloped request message (at most {@link MAX_GRPC_REQUEST_BYTES}), then enveloped
 * `EventStreamResponse`s and an end-of-stream message, which carries every error. Returns false
 * for paths it does not serve.
 * @internal
 */
export async function handleConnectStream(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ConnectStreamDeps,
): Promise<boolean> {
  if (!PATH.test(pathOf(req))) return false;
  if (req.method !== 'POST') {
    sendJson(res, 405, { code: 'unimplemented', message: 'use POST' }, { Allow: 'POST' });
    return true;
  }
  const type = CONTENT_TYPE.exec(req.headers['content-type'] ?? '');
  if (type === null) {
    const message = 'EventStream is a server stream: use application/connect+json or +proto';
    sendJson(res, 415, { code: 'unknown', message });
    return true;
  }
  const format = (type[1] as string).toLowerCase() as ConnectFormat;
  const encoding = req.headers['connect-content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    req.resume();
    refuse(res, format, {
      code: grpc.status.UNIMPLEMENTED,
      details: `content encoding "${encoding}" is not supported`,
    });
    return true;
  }
  const refusal = checkRequest(await readBytes(req, MAX_GRPC_REQUEST_BYTES + 5), format);
  if (refusal !== undefined) {
    refuse(res, format, refusal);
    return true;
  }
  try {
    deps.pick(req); // a bad selector is INVALID_ARGUMENT before the stream opens
  } catch (error) {
    refuse(res, format, { code: grpc.status.INVALID_ARGUMENT, details: (error as Error).message });
    return true;
  }
  const call = open(res, format);
  try {
    deps.subscribe(call, req, format);
  } catch (error) {
    call.end(grpc.status.INTERNAL, (error as Error).message);
  }
  return true;
}
