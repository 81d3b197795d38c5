import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { EvaluationContext, JsonObject, JsonValue } from '@openfeature/core';
import type { EvaluationResult, Evaluator } from '../evaluator/index.js';
import {
  decodeResolveAllRequest,
  decodeResolveRequest,
  encodeResolveAllResponse,
  encodeResolveResponse,
  type ResolveKind,
} from '../grpc/evaluation-wire.js';
import type { RequestHeaders } from './context-enrichment.js';
import { resolveAllFlags, resolveCall, type ResolveFailure } from './evaluation-api.js';

/** The largest request message accepted, as flagd's own sync server bounds its requests. */
export const MAX_GRPC_REQUEST_BYTES = 64 * 1024;

const PATH =
  /^\/(flagd\.evaluation\.v[12]|schema\.v1)\.Service\/(ResolveBoolean|ResolveString|ResolveInt|ResolveFloat|ResolveObject|ResolveAll|EventStream)$/;

/** flagd's error mapping (flagd-spec §b.3), from the Connect code the JSON API answers with. */
const STATUS: Readonly<Record<ResolveFailure['code'], grpc.status>> = {
  not_found: grpc.status.NOT_FOUND,
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  data_loss: grpc.status.DATA_LOSS,
  unknown: grpc.status.UNKNOWN,
};

/** What the gRPC evaluation service needs from the server. @internal */
export interface GrpcEvaluationDeps {
  /** The evaluator for a `Flagd-Selector` header; throws a RangeError for a bad one. */
  pick(selector: string | undefined): Evaluator;
  /** Called with every flag evaluated, for metrics. */
  evaluated(key: string, result: EvaluationResult<unknown>): void;
  /** An `EventStream` call whose response headers are sent; throws a RangeError for a bad selector. */
  subscribe(stream: GrpcServerStream, selector: string | undefined): void;
  /** The deepest nesting accepted in an evaluation context. */
  readonly maxDepth: number;
  /** A request's context with what the server adds (flagd's `-X` and `-H`). */
  enrich(context: EvaluationContext, headers: RequestHeaders): EvaluationContext;
  /**
   * Called once per call as it closes, with its method (`unknown` for a path the service does not
   * have) and the status it ended with (CANCELLED when the client went first), for metrics.
   */
  called?(method: string, code: grpc.status): void;
  /** Time for a client to send its whole request. */
  readonly requestTimeoutMs: number;
}

/** A gRPC response stream: messages, then the status in trailers. @internal */
export interface GrpcServerStream {
  /** Writes one message; `done` runs once HTTP/2 has taken it. */
  write(message: Uint8Array, done: (error?: Error | null) => void): void;
  /** Ends the call with a status (after what is written). */
  end(code: grpc.status, details: string): void;
  /** Resets the stream at once, dropping what is buffered. */
  reset(): void;
  /** Runs `listener` once the call is over, however it ends. */
  onClose(listener: () => void): void;
}

/** A gRPC message in its 5-byte frame: uncompressed flag, big-endian length. @internal */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** `grpc-message` is percent-encoded (gRPC over HTTP/2: "Percent-Encoded"). */
const percentEncode = (text: string) =>
  encodeURIComponent(text)
    .replace(/%20/g, ' ')
    .replace(/%(2[1-9A-F]|[3-7][0-9A-F])/gi, (m) => {
      const c = String.fromCharCode(parseInt(m.slice(1), 16));
      return c === '%' ? m : c;
    });

function statusHeaders(code: grpc.status, details: string): OutgoingHttpHeaders {
  return {
    'grpc-status': String(code),
    ...(details === '' ? {} : { 'grpc-message': percentEncode(details) }),
  };
}

/** The status each call ended with, once it is sent, for {@link GrpcEvaluationDeps.called}. */
const ENDED = new WeakMap<ServerHttp2Stream, grpc.status>();

/** Ends a call that sent nothing with a status alone ("Trailers-Only"). */
function fail(stream: ServerHttp2Stream, code: grpc.status, details: string): void {
  if (stream.destroyed || stream.closed) return;
  ENDED.set(stream, code);
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', ...statusHeaders(code, details) },
    { endStream: true },
  );
}

/** Opens a response: headers now, then messages, then the status in trailers. */
function open(stream: ServerHttp2Stream): GrpcServerStream {
  let trailers = statusHeaders(grpc.status.OK, '');
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  return {
    write: (message, done) => {
      if (stream.destroyed || stream.closed) return done(new Error('the stream is closed'));
      stream.write(grpcFrame(message), done);
    },
    end: (code, details) => {
      if (stream.destroyed || stream.closed || stream.writableEnded) return;
      ENDED.set(stream, code);
      trailers = statusHeaders(code, details);
      stream.end();
    },
    reset: () => stream.close(constants.NGHTTP2_CANCEL),
    onClose: (listener) => stream.once('close', listener),
  };
}

/** The request's one message, or the status to refuse it with. */
async function readMessage(
  stream: ServerHttp2Stream,
  timeoutMs: number,
): Promise<Uint8Array | { code: grpc.status; details: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => stream.close(constants.NGHTTP2_CANCEL), timeoutMs);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_GRPC_REQUEST_BYTES + 5)
        return {
          code: grpc.status.RESOURCE_EXHAUSTED,
          details: `request message over ${MAX_GRPC_REQUEST_BYTES} bytes`,
        };
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(timer);
  }
  const body = Buffer.concat(chunks);
  if (body.length === 0) return new Uint8Array(0); // an empty message sent as no frame
  if (body.length < 5) return { code: grpc.status.INTERNAL, details: 'truncated message frame' };
  if (body[0] !== 0)
    return { code: grpc.status.UNIMPLEMENTED, details: 'compressed messages are not supported' };
  const length = body.readUInt32BE(1);
  if (length !== body.length - 5)
    return { code: grpc.status.INTERNAL, details: 'expected exactly one request message' };
  return body.subarray(5);
}

/** How deep a decoded context nests (the decoder already stops at 128). */
function depthOf(value: JsonValue, depth = 0): number {
  if (typeof value !== 'object' || value === null) return depth;
  let deepest = depth + 1;
  for (const item of Object.values(value))
    deepest = Math.max(deepest, depthOf(item as JsonValue, depth + 1));
  return deepest;
}

/**
 * A `Resolve<T>` or `ResolveAll` call's answer in protobuf, for gRPC, gRPC-Web and Connect's
 * `application/proto`: the encoded response, or the status to end it with. Throws for a message
 * that is not protobuf. @internal
 */
export function answerMessage(
  evaluator: Evaluator,
  method: string,
  message: Uint8Array,
  v2: boolean,
  deps: Pick<GrpcEvaluationDeps, 'evaluated' | 'maxDepth' | 'enrich'>,
  headers: RequestHeaders,
): Uint8Array | { code: grpc.status; details: string } {
  if (method === 'ResolveAll') {
    if (v2) return { code: grpc.status.UNIMPLEMENTED, details: 'ResolveAll is a v1 method' };
    const context = decodeResolveAllRequest(message);
    if (depthOf(context) > deps.maxDepth)
      return { code: grpc.status.INVALID_ARGUMENT, details: 'context nested too deep' };
    const enriched = deps.enrich(context as EvaluationContext, headers);
    const all = resolveAllFlags(evaluator, enriched, deps.evaluated);
    return encodeResolveAllResponse(all);
  }
  const kind = method.slice('Resolve'.length) as ResolveKind;
  const { flagKey, context } = decodeResolveRequest(message);
  if (depthOf(context) > deps.maxDepth)
    return { code: grpc.status.INVALID_ARGUMENT, details: 'context nested too deep' };
  const outcome = resolveCall(
    evaluator,
    kind,
    flagKey,
    deps.enrich(context as EvaluationContext, headers),
    v2,
    deps.evaluated,
  );
  if ('code' in outcome) return { code: STATUS[outcome.code], details: outcome.message };
  const value = outcome.value as JsonValue;
  if (kind === 'Object' && outcome.variant !== undefined && !isObject(value))
    return {
      code: grpc.status.INVALID_ARGUMENT,
      details: `flag "${flagKey}" is not an object (TYPE_MISMATCH)`,
    };
  return encodeResolveResponse(kind, {
    reason: outcome.reason,
    metadata: outcome.flagMetadata as JsonObject,
    ...(outcome.variant === undefined
      ? v2
        ? {}
        : { variant: '' }
      : { value, variant: outcome.variant }),
  });
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * flagd's evaluation service over gRPC (flagd-spec §d.2): `flagd.evaluation.v1.Service` (with
 * `ResolveAll`), `v2` and the legacy `schema.v1.Service`, each with `Resolve<T>` and `EventStream`,
 * framed by hand on an HTTP/2 stream with rampflag's own codec. Errors end a call with flagd's
 * status mapping; a path it does not serve is UNIMPLEMENTED.
 * @internal
 */
export function handleGrpcStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  deps: GrpcEvaluationDeps,
  rawHeaders: RequestHeaders = [],
): void {
  stream.on('error', () => {}); // a reset concerns this call alone
  const match = PATH.exec(headers[':path'] ?? '');
  const called = deps.called;
  if (called !== undefined) {
    const name = match?.[2] ?? 'unknown';
    stream.once('close', () => called(name, ENDED.get(stream) ?? grpc.status.CANCELLED));
  }
  const type = headers['content-type'] ?? '';
  if (!/^application\/grpc(\+proto)?(;|$)/.test(type)) {
    stream.respond({ ':status': 415, 'content-type': 'text/plain' }, { endStream: false });
    stream.end('this HTTP/2 port serves gRPC (application/grpc); use HTTP/1.1 for Connect JSON');
    return;
  }
  if (headers[':method'] !== 'POST' || match === null) {
    fail(stream, grpc.status.UNIMPLEMENTED, `unknown method ${headers[':path'] ?? ''}`);
    return;
  }
  const v2 = match[1] === 'flagd.evaluation.v2';
  const method = match[2] as string;
  const header = headers['flagd-selector'];
  const selector = typeof header === 'string' ? header : undefined;
  readMessage(stream, deps.requestTimeoutMs)
    .then((message) => {
      if (!(message instanceof Uint8Array)) return fail(stream, message.code, message.details);
      if (method === 'EventStream') {
        try {
          deps.pick(selector); // a bad selector is INVALID_ARGUMENT before the stream opens
        } catch (error) {
          return fail(stream, grpc.status.INVALID_ARGUMENT, (error as Error).message);
        }
        const call = open(stream);
        try {
          deps.subscribe(call, selector);
        } catch (error) {
          call.end(grpc.status.INTERNAL, (error as Error).message);
        }
        return;
      }
      let evaluator: Evaluator;
      try {
        evaluator = deps.pick(selector);
      } catch (error) {
        return fail(stream, grpc.status.INVALID_ARGUMENT, (error as Error).message);
      }
      let response: ReturnType<typeof answerMessage>;
      try {
        response = answerMessage(evaluator, method, message, v2, deps, rawHeaders);
      } catch (error) {
        // a message that is not protobuf, or a context nested past the decoder's bound
        return fail(stream, grpc.status.INVALID_ARGUMENT, (error as Error).message);
      }
      if (!(response instanceof Uint8Array)) return fail(stream, response.code, response.details);
      const call = open(stream);
      call.write(response, () => {});
      call.end(grpc.status.OK, '');
    })
    .catch((error: unknown) => fail(stream, grpc.status.INTERNAL, (error as Error).message));
}
