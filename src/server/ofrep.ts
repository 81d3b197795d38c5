import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EvaluationContext } from '@openfeature/core';
import type { EvaluationResult, Evaluator } from '../evaluator/index.js';
import { etagOf, pathOf, readJsonBody, sendJson, type EvaluationDeps } from './http-util.js';

/** Where OFREP clients subscribe to change notifications (OFREP ADR-0008). @internal */
export const OFREP_EVENTS_PATH = '/ofrep/v1/events';

const SINGLE = /^\/ofrep\/v1\/evaluate\/flags\/([^/]+)$/;
const BULK = '/ofrep/v1/evaluate/flags';
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag',
} as const;

type Outcome = { status: number; body: Record<string, unknown> };

/** One flag's OFREP result: flagd's shapes (flagd-spec §e), value and variant absent when unset. */
function outcome(key: string, result: EvaluationResult<unknown>): Outcome {
  const metadata = result.flagMetadata;
  if (result.errorCode !== undefined) {
    const errorCode = result.errorCode === 'TYPE_MISMATCH' ? 'GENERAL' : result.errorCode;
    const body = { key, errorCode, errorDetails: result.errorMessage ?? errorCode, metadata };
    return { status: errorCode === 'FLAG_NOT_FOUND' ? 404 : 400, body };
  }
  if (result.variant === undefined)
    return { status: 200, body: { key, reason: result.reason, metadata } };
  const { reason, variant, value } = result;
  return { status: 200, body: { key, reason, variant, value, metadata } };
}

/** The request's evaluation context; a body that is not `{"context": {…}}` is INVALID_CONTEXT. */
async function contextOf(
  req: IncomingMessage,
  res: ServerResponse,
  maxDepth: number,
): Promise<object | undefined> {
  const read = await readJsonBody(req, maxDepth);
  if (!('value' in read)) {
    const errorCode = read.status === 413 ? 'GENERAL' : 'INVALID_CONTEXT';
    sendJson(res, read.status, { errorCode, errorDetails: read.message }, CORS);
    return undefined;
  }
  const body = read.value;
  const context = (body as { context?: unknown } | null)?.context;
  if (context === undefined) return {};
  if (typeof context === 'object' && context !== null && !Array.isArray(context)) return context;
  sendJson(
    res,
    400,
    { errorCode: 'INVALID_CONTEXT', errorDetails: 'context must be an object' },
    CORS,
  );
  return undefined;
}

/** Whether an `If-None-Match` header (a list of tags, weak or strong, or `*`) matches `etag`. */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/**
 * OFREP (OpenFeature Remote Evaluation Protocol) as flagd serves it on its OFREP port, plus what
 * flagd leaves out: the bulk endpoint answers with an `ETag` and `304 Not Modified` for a matching
 * `If-None-Match`, and names an SSE `eventStreams` endpoint that announces every change (ADR-0008).
 * Returns false for paths it does not serve.
 * @internal
 */
export async function handleOfrep(
  req: IncomingMessage,
  res: ServerResponse,
  deps: EvaluationDeps,
): Promise<boolean> {
  const path = pathOf(req);
  const single = SINGLE.exec(path);
  if (single === null && path !== BULK) return false;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      ...CORS,
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, If-None-Match, Authorization, Flagd-Selector',
    });
    res.end();
    return true;
  }
  if (req.method !== 'POST') {
    sendJson(res, 405, { errorCode: 'GENERAL', errorDetails: 'use POST' }, CORS);
    return true;
  }
  let evaluator: Evaluator;
  try {
    evaluator = deps.pick(req);
  } catch (error) {
    sendJson(res, 400, { errorCode: 'GENERAL', errorDetails: (error as Error).message }, CORS);
    return true;
  }
  let key: string | undefined;
  try {
    key = single === null ? undefined : decodeURIComponent(single[1] as string);
  } catch {
    const errorDetails = `the flag key in the path is not valid percent-encoding: ${single?.[1]}`;
    sendJson(res, 400, { errorCode: 'GENERAL', errorDetails }, CORS);
    return true;
  }
  const given = await contextOf(req, res, deps.maxDepth);
  if (given === undefined) return true;
  const context = deps.enrich(given as EvaluationContext, req.rawHeaders);
  if (key !== undefined) {
    const result = evaluator.resolveValue(key, context as EvaluationContext);
    deps.evaluated(key, result);
    const { status, body } = outcome(key, result);
    sendJson(res, status, body, CORS);
    return true;
  }
  const flags = evaluator.flagKeys().map((key) => {
    const result = evaluator.resolveValue(key, context as EvaluationContext);
    deps.evaluated(key, result);
    return outcome(key, result).body;
  });
  const text = JSON.stringify({
    flags,
    metadata: evaluator.metadata,
    eventStreams: [{ type: 'sse', endpoint: { requestUri: OFREP_EVENTS_PATH } }],
  });
  const etag = etagOf(text);
  if (noneMatch(req.headers['if-none-match'], etag))
    res.writeHead(304, { ...CORS, ETag: etag }).end();
  else res.writeHead(200, { ...CORS, 'Content-Type': 'application/json', ETag: etag }).end(text);
  return true;
}
