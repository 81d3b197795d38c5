import type { IncomingMessage, ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Evaluator } from '../evaluator/index.js';
import {
  answerMessage,
  MAX_GRPC_REQUEST_BYTES,
  type GrpcEvaluationDeps,
  type GrpcServerStream,
} from './grpc-evaluation.js';
import { envelope } from './connect-stream.js';
import { pathOf, readBytes } from './http-util.js';

const PATH =
  /^\/(flagd\.evaluation\.v[12]|schema\.v1)\.Service\/(Resolve(?:Boolean|String|Int|Float|Object|All)|EventStream)$/;
const CONTENT_TYPE = /^application\/grpc-web(-text)?(\+proto)?\s*(;.*)?$/i;

/** gRPC-Web's flag for the frame that carries the trailers (PROTOCOL-WEB.md). */
const TRAILERS = 0x80;

/** What gRPC-Web needs from the server. @internal */
export interface GrpcWebDeps extends Pick<GrpcEvaluationDeps, 'evaluated' | 'maxDepth' | 'enrich'> {
  /** The evaluator for a request's `Flagd-Selector`; throws a RangeError for a bad one. */
  pick(req: IncomingMessage): Evaluator;
  /** An `EventStream` call whose response headers are sent. */
  subscribe(call: GrpcServerStream, req: IncomingMessage): void;
}

/** A grpc-web-text body: base64 characters in whole quads (padded chunks may follow each other). */
const isBase64 = (text: string) => text.length % 4 === 0 && /^[A-Za-z0-9+/=]*$/.test(text);

/** gRPC-Web frames messages as Connect streaming does: flags, big-endian length, bytes. */
const frame = envelope;

/** The trailers frame: `grpc-status` and `grpc-message` as HTTP/1 header lines. */
function trailers(code: grpc.status, details: string): Buffer {
  const message = details === '' ? '' : `grpc-message: ${encodeURIComponent(details)}\r\n`;
  return frame(TRAILERS, Buffer.from(`grpc-status: ${code}\r\n${message}`));
}

/** The request's one message, or the status to refuse it with. */
function messageOf(body: Buffer | undefined): Uint8Array | { code: grpc.status; details: string } {
  if (body === undefined)
    return {
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: `request message over ${MAX_GRPC_REQUEST_BYTES} bytes`,
    };
  if (body.length === 0) return new Uint8Array(0);
  if (body.length < 5) return { code: grpc.status.INTERNAL, details: 'truncated message frame' };
  if (body[0] !== 0)
    return { code: grpc.status.UNIMPLEMENTED, details: 'compressed messages are not supported' };
  if (body.readUInt32BE(1) !== body.length - 5)
    return { code: grpc.status.INTERNAL, details: 'expected exactly one request message' };
  return body.subarray(5);
}

/** A gRPC-Web response: frames (each base64 on its own in the text form), then the trailers frame. */
function open(res: ServerResponse, text: boolean): GrpcServerStream {
  res.writeHead(200, {
    'Content-Type': text ? 'application/grpc-web-text+proto' : 'application/grpc-web+proto',
  });
  const encode = (bytes: Buffer) => (text ? bytes.toString('base64') : bytes);
  return {
    write: (message, done) => {
      if (res.destroyed === true || res.writableEnded)
        return done(new Error('the stream is closed'));
      res.write(encode(frame(0, message)), done);
    },
    end: (code, details) => {
      if (res.destroyed === true || res.writableEnded) return;
      res.end(encode(trailers(code, details)));
    },
    reset: () => res.destroy(),
    onClose: (listener) => res.once('close', listener),
  };
}

/**
 * flagd's evaluation service in gRPC-Web, as flagd serves it through connect-go: every
 * `Resolve<T>`, `ResolveAll` and the `EventStream`, in `application/grpc-web(+proto)` and the
 * base64 `application/grpc-web-text(+proto)`, with the gRPC service's codec and answers. Every
 * status travels in the trailers frame. Returns false for any other request.
 * @internal
 */
export async function handleGrpcWeb(
  req: IncomingMessage,
  res: ServerResponse,
  deps: GrpcWebDeps,
): Promise<boolean> {
  const type = CONTENT_TYPE.exec(req.headers['content-type'] ?? '');
  if (type === null) return false;
  await serveCall(req, res, deps, type[1] !== undefined);
  return true;
}

async function serveCall(
  req: IncomingMessage,
  res: ServerResponse,
  deps: GrpcWebDeps,
  text: boolean,
): Promise<void> {
  const match = PATH.exec(pathOf(req));
  if (req.method !== 'POST' || match === null) {
    req.resume();
    return open(res, text).end(grpc.status.UNIMPLEMENTED, `unknown method ${pathOf(req)}`);
  }
  const limit = MAX_GRPC_REQUEST_BYTES + 5;
  const body = await readBytes(req, text ? Math.ceil(limit / 3) * 4 : limit);
  const call = open(res, text);
  if (text && body !== undefined && !isBase64(body.toString('latin1')))
    return call.end(grpc.status.INVALID_ARGUMENT, 'the grpc-web-text body is not base64');
  const message = messageOf(
    text && body !== undefined ? Buffer.from(body.toString('latin1'), 'base64') : body,
  );
  if (!(message instanceof Uint8Array)) return call.end(message.code, message.details);
  let evaluator: Evaluator;
  try {
    evaluator = deps.pick(req); // a bad selector is INVALID_ARGUMENT before anything is sent
  } catch (error) {
    return call.end(grpc.status.INVALID_ARGUMENT, (error as Error).message);
  }
  const method = match[2] as string;
  if (method === 'EventStream') {
    try {
      deps.subscribe(call, req);
    } catch (error) {
      call.end(grpc.status.INTERNAL, (error as Error).message);
    }
    return;
  }
  let response: ReturnType<typeof answerMessage>;
  try {
    const v2 = match[1] === 'flagd.evaluation.v2';
    response = answerMessage(evaluator, method, message, v2, deps, req.rawHeaders);
  } catch (error) {
    return call.end(grpc.status.INVALID_ARGUMENT, (error as Error).message);
  }
  if (!(response instanceof Uint8Array)) return call.end(response.code, response.details);
  call.write(response, () => {});
  call.end(grpc.status.OK, '');
}
