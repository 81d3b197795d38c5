import type { IncomingMessage, ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Evaluator } from '../evaluator/index.js';
import { CONNECT_CODES } from './connect-stream.js';
import {
  answerMessage,
  MAX_GRPC_REQUEST_BYTES,
  type GrpcEvaluationDeps,
} from './grpc-evaluation.js';
import { pathOf, readBytes, sendJson, type EvaluationDeps } from './http-util.js';

const PROTO = /^application\/proto\s*(;.*)?$/i;
const PATH =
  /^\/(flagd\.evaluation\.v[12]|schema\.v1)\.Service\/(Resolve(?:Boolean|String|Int|Float|Object|All))$/;

/** The HTTP status of a Connect unary error, by its code (Connect protocol, "Error Codes"). */
const HTTP_STATUS: Readonly<Record<string, number>> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

/** A Connect unary error: always JSON, whatever the request's encoding. */
function connectError(res: ServerResponse, code: grpc.status, message: string): void {
  const name = CONNECT_CODES[code] ?? 'unknown';
  sendJson(res, HTTP_STATUS[name] ?? 500, { code: name, message });
}

/**
 * A `Resolve<T>` or `ResolveAll` call in Connect's unary binary form, as connect-web sends it with
 * `useBinaryFormat`: the protobuf request (at most {@link MAX_GRPC_REQUEST_BYTES}) in the body, the
 * protobuf response back, errors as Connect JSON. The same codec and answers as gRPC's. Returns
 * false for any other request (the JSON API answers those).
 * @internal
 */
export async function handleProtoUnary(
  req: IncomingMessage,
  res: ServerResponse,
  deps: EvaluationDeps & Pick<GrpcEvaluationDeps, 'evaluated' | 'maxDepth'>,
): Promise<boolean> {
  const match = PATH.exec(pathOf(req));
  if (match === null || req.method !== 'POST' || !PROTO.test(req.headers['content-type'] ?? ''))
    return false;
  await answerProto(req, res, deps, match[2] as string, match[1] === 'flagd.evaluation.v2');
  return true;
}

async function answerProto(
  req: IncomingMessage,
  res: ServerResponse,
  deps: EvaluationDeps,
  method: string,
  v2: boolean,
): Promise<void> {
  let evaluator: Evaluator;
  try {
    evaluator = deps.pick(req); // the flags the Flagd-Selector header selects
  } catch (error) {
    req.resume();
    connectError(res, grpc.status.INVALID_ARGUMENT, (error as Error).message);
    return;
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    req.resume();
    connectError(res, grpc.status.UNIMPLEMENTED, `content encoding "${encoding}" is not supported`);
    return;
  }
  const body = await readBytes(req, MAX_GRPC_REQUEST_BYTES);
  if (body === undefined) {
    const message = `request message over ${MAX_GRPC_REQUEST_BYTES} bytes`;
    connectError(res, grpc.status.RESOURCE_EXHAUSTED, message);
    return;
  }
  let response: ReturnType<typeof answerMessage>;
  try {
    response = answerMessage(evaluator, method, body, v2, deps, req.rawHeaders);
  } catch (error) {
    connectError(res, grpc.status.INVALID_ARGUMENT, (error as Error).message);
    return;
  }
  if (response instanceof Uint8Array)
    res.writeHead(200, { 'Content-Type': 'application/proto' }).end(response);
  else connectError(res, response.code, response.details);
}
