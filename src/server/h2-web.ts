import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  constants,
  Http2ServerRequest,
  Http2ServerResponse,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';

/** gRPC proper (not gRPC-Web), which the hand-framed gRPC service answers. */
const GRPC = /^application\/grpc(\+proto)?(;|$)/;

/** Whether an HTTP/2 request is gRPC (`application/grpc`, `+proto`), not Connect or gRPC-Web. @internal */
export const isGrpc = (headers: IncomingHttpHeaders): boolean =>
  GRPC.test(headers['content-type'] ?? '');

/**
 * Hands an HTTP/2 stream that is not gRPC to an HTTP/1-style handler, through Node's HTTP/2
 * compatibility objects, so Connect and the JSON API work for browsers, which negotiate `h2` by
 * ALPN on a TLS port. A request whose body has not arrived after `requestTimeoutMs` is reset, as
 * the HTTP/1.1 listener's request timeout closes it.
 * @internal
 */
export function serveAsHttp1(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: string[],
  requestTimeoutMs: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  stream.on('error', () => {}); // a reset concerns this request alone
  const req = new Http2ServerRequest(stream, headers, {}, rawHeaders);
  const res = new Http2ServerResponse(stream);
  const timer = setTimeout(() => {
    if (!req.complete) stream.close(constants.NGHTTP2_CANCEL);
  }, requestTimeoutMs);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
  handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
}
