import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInvalidConfigurationError } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { etagOf, pathOf, readBody, sendJson } from './http-util.js';

/** Where the admin API lives, on the management port. @internal */
export const ADMIN_PATH = '/admin/flags';

/** What the admin API needs from the server. @internal */
export interface AdminDeps {
  /** The bearer token every request must carry; undefined for none. */
  readonly token: string | undefined;
  /** Whether the server is bound to loopback only (then a token is optional). */
  readonly loopback: boolean;
  /** The largest configuration accepted, in bytes. */
  readonly maxBytes: number;
  /** The sources by name, and whether each can be written. */
  readonly sources: ReadonlyMap<string, { writable: boolean }>;
  /** A source's configuration as served now (JSON text). */
  current(name: string): string | undefined;
  /**
   * Validates and stores a source's new configuration; throws `InvalidConfigurationError` when it
   * is bad (nothing changes). Resolves with the keys that changed.
   */
  replace(
    name: string,
    configuration: string,
  ): Promise<Record<'added' | 'removed' | 'changed', string[]>>;
  /** Records an accepted change (the server logs it). */
  audit(line: string): void;
}

type Json = Record<string, unknown>;

/**
 * JSON Merge Patch (RFC 7396): objects merge, `null` deletes, anything else replaces. Builds new
 * objects with `Object.fromEntries`, so a `"__proto__"` key stays a key.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const merged = new Map(Object.entries(isObject(target) ? target : {}));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) merged.delete(key);
    else merged.set(key, mergePatch(merged.get(key), value));
  }
  return Object.fromEntries(merged);
}

/** Whether the request carries the token, compared in constant time. */
function authorised(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return given !== '' && timingSafeEqual(digest(given), digest(token));
}

/** The source a request names (`?source=`), or the only one. */
function sourceOf(req: IncomingMessage, deps: AdminDeps): string | Error {
  const named = new URL(req.url ?? '/', 'http://admin').searchParams.get('source');
  if (named !== null)
    return deps.sources.has(named) ? named : new Error(`no source named "${named}"`);
  if (deps.sources.size === 1) return [...deps.sources.keys()][0] as string;
  return new Error(`name a source with ?source=: ${[...deps.sources.keys()].join(', ')}`);
}

/**
 * The admin API: `GET /admin/flags` (the configuration and its ETag), `PUT` (replace it whole) and
 * `PATCH` (a JSON merge patch: `{"flags": {"checkout": {"defaultVariant": "on"}, "old": null}}`),
 * with `?source=` when the server has several. A bearer token is required when one is configured,
 * and always when the server is bound beyond loopback. `If-Match` guards against lost updates. An
 * update is validated whole before anything is written: a bad one gets 400 with every issue, and
 * nothing changes. Returns false for paths it does not serve.
 * @internal
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  deps: AdminDeps,
): Promise<boolean> {
  if (pathOf(req) !== ADMIN_PATH) return false;
  const fail = (
    status: number,
    error: string,
    extra: Json = {},
    headers: Record<string, string> = {},
  ) => sendJson(res, status, { error, ...extra }, headers);
  if (deps.token === undefined && !deps.loopback) {
    fail(403, 'the admin API needs a token when the server is bound beyond loopback');
    return true;
  }
  if (deps.token !== undefined && !authorised(req, deps.token)) {
    fail(
      401,
      'a valid "Authorization: Bearer <token>" header is required',
      {},
      { 'WWW-Authenticate': 'Bearer' },
    );
    return true;
  }
  const name = sourceOf(req, deps);
  if (name instanceof Error) {
    fail(404, name.message);
    return true;
  }
  const current = deps.current(name) ?? '{"flags":{}}';
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'application/json', ETag: etagOf(current) }).end(current);
    return true;
  }
  if (req.method !== 'PUT' && req.method !== 'PATCH') {
    fail(405, 'use GET, PUT or PATCH', {}, { Allow: 'GET, PUT, PATCH' });
    return true;
  }
  if (!deps.sources.get(name)?.writable) {
    fail(405, `source "${name}" cannot be written`);
    return true;
  }
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && ifMatch !== etagOf(current) && ifMatch !== '*') {
    fail(412, 'the configuration changed since it was read (If-Match does not match)', {
      etag: etagOf(current),
    });
    return true;
  }
  const text = await readBody(req, deps.maxBytes);
  if (text === undefined) {
    fail(413, `request body over ${deps.maxBytes} bytes`);
    return true;
  }
  let next: string;
  try {
    next =
      req.method === 'PUT'
        ? text
        : JSON.stringify(mergePatch(JSON.parse(current), JSON.parse(text)));
  } catch (error) {
    fail(400, `the body is not JSON: ${(error as Error).message}`);
    return true;
  }
  try {
    const changes = await deps.replace(name, next);
    deps.audit(
      `admin ${req.method} ${name}: added [${changes.added}] removed [${changes.removed}] changed [${changes.changed}]`,
    );
    sendJson(res, 200, { source: name, etag: etagOf(deps.current(name) ?? next), ...changes });
  } catch (error) {
    if (!isInvalidConfigurationError(error)) throw error;
    fail(400, error.message, { issues: error.issues });
  }
  return true;
}
