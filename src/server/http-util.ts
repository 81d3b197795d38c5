import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIPv4 } from 'node:net';
import type { EvaluationContext } from '@openfeature/core';
import type { EvaluationResult, Evaluator } from '../evaluator/index.js';
import { parseJsonText } from '../evaluator/json-limits.js';
import type { RequestHeaders } from './context-enrichment.js';

/** What the evaluation API and OFREP need from the server. @internal */
export interface EvaluationDeps {
  /** The evaluator for a request's `Flagd-Selector`; throws a RangeError for a bad one. */
  pick(req: IncomingMessage): Evaluator;
  /** Called with every flag evaluated, for metrics. */
  evaluated(key: string, result: EvaluationResult<unknown>): void;
  /** The deepest nesting accepted in a request body. */
  readonly maxDepth: number;
  /** A request's context with what the server adds (flagd's `-X` and `-H`). */
  enrich(context: EvaluationContext, headers: RequestHeaders): EvaluationContext;
}

/** The largest request body any endpoint reads (flagd-spec §e: an oversized body is a 413). */
export const MAX_BODY = 1024 * 1024;

/** Sends `body` as JSON. @internal */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json', ...headers })
    .end(JSON.stringify(body));
}

/** The request body as text, or undefined when it is over `limit` bytes (reading stops there). @internal */
export async function readBody(
  req: IncomingMessage,
  limit: number = MAX_BODY,
): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return undefined;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request body's bytes, or undefined once they are over `limit` (reading stops there). @internal */
export async function readBytes(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A request's JSON body (`{}` when empty) within {@link MAX_BODY} bytes and `maxDepth` levels, or
 * the status and message to refuse it with. @internal
 */
export async function readJsonBody(
  req: IncomingMessage,
  maxDepth: number,
): Promise<{ readonly value: unknown } | { readonly status: 400 | 413; readonly message: string }> {
  const text = await readBody(req);
  if (text === undefined) return { status: 413, message: `request body over ${MAX_BODY} bytes` };
  if (text.trim() === '') return { value: {} };
  try {
    return { value: parseJsonText(text, { maxBytes: MAX_BODY, maxDepth }) };
  } catch (error) {
    return { status: 400, message: `request body is ${(error as Error).message}` };
  }
}

/** The path of a request URL, without its query. @internal */
export function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

/** A strong ETag for a representation: the same text gives the same tag. @internal */
export function etagOf(text: string): string {
  return `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
}

/**
 * Whether a host name or address is loopback: `localhost`, `::1`, or an IPv4 address in
 * 127.0.0.0/8. A name that merely begins with `127.` is not. @internal
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.toLowerCase().replace(/\.$/, '');
  return (
    name === 'localhost' ||
    name === '::1' ||
    name === '0:0:0:0:0:0:0:1' ||
    (isIPv4(name) && name.startsWith('127.'))
  );
}
