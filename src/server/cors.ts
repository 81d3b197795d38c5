import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers a browser client may read: Connect's and gRPC-Web's status and trailers. */
const EXPOSED =
  'Connect-Content-Encoding, Connect-Accept-Encoding, Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, Grpc-Encoding, Content-Encoding';

/** Request headers allowed when the preflight does not list any. */
const ALLOWED =
  'Content-Type, Connect-Protocol-Version, Connect-Timeout-Ms, Connect-Accept-Encoding, Connect-Content-Encoding, Grpc-Timeout, X-Grpc-Web, X-User-Agent, Flagd-Selector, Authorization';

/** A preflight's `Access-Control-Request-Headers` longer than this is not echoed. */
const MAX_REQUESTED_HEADERS = 2048;

/**
 * The CORS headers of a response to `req` from the evaluation port, as flagd's (rs/cors) are: any
 * origin by default, or only those listed (`*` in the list allows any). Nothing for a request
 * without an `Origin` or from an origin not allowed.
 * @internal
 */
export function corsHeaders(
  req: IncomingMessage,
  origins: readonly string[],
): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  const any = origins.includes('*');
  if (!any && !origins.includes(origin)) return {};
  return {
    'Access-Control-Allow-Origin': any ? '*' : origin,
    'Access-Control-Expose-Headers': EXPOSED,
    ...(any ? {} : { Vary: 'Origin' }),
  };
}

/**
 * Answers a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`): 204 with the methods
 * and the request headers asked for, or 403 for an origin not allowed. False for any other request.
 * @internal
 */
export function handlePreflight(
  req: IncomingMessage,
  res: ServerResponse,
  origins: readonly string[],
): boolean {
  if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined)
    return false;
  const headers = corsHeaders(req, origins);
  if (headers['Access-Control-Allow-Origin'] === undefined) {
    res.writeHead(403, { 'Content-Type': 'text/plain' }).end('origin not allowed');
    return true;
  }
  const requested = req.headers['access-control-request-headers'];
  const allowed =
    requested !== undefined &&
    requested.length <= MAX_REQUESTED_HEADERS &&
    /^[\w\-, ]*$/.test(requested)
      ? requested
      : ALLOWED;
  res.writeHead(204, {
    ...headers,
    'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
    'Access-Control-Allow-Headers': allowed,
    'Access-Control-Max-Age': '7200',
    Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  });
  res.end();
  return true;
}
