import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInvalidConfigurationError } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { parseJsonText } from '../evaluator/json-limits.js';
import { isWriteConflictError } from '../sources/flag-source.js';
import { etagOf, isLoopbackHost, pathOf, readBody, sendJson } from './http-util.js';

/** Where the admin API lives, on the management port. @internal */
export const ADMIN_PATH = '/admin/flags';

/** A source's configuration as the admin API shows it. @internal */
export interface StoredConfiguration {
  /** As JSON text (a YAML file converted); its ETag is the one clients send back in `If-Match`. */
  readonly json: string;
  /** Exactly as stored, for the compare-and-swap write; undefined for a source that is not written. */
  readonly raw: string | undefined;
}

type Changes = Record<'added' | 'removed' | 'changed', string[]>;

/** What the admin API needs from the server. @internal */
export interface AdminDeps {
  /** The bearer token every request must carry; undefined for none. */
  readonly token: string | undefined;
  /** Whether the server is bound to loopback only (then a token is optional). */
  readonly loopback: boolean;
  /** The largest configuration accepted, in bytes. */
  readonly maxBytes: number;
  /** The deepest nesting accepted in a body. */
  readonly maxDepth: number;
  /** The sources by name, and whether each can be written. */
  readonly sources: ReadonlyMap<string, { writable: boolean }>;
  /** A source's configuration as stored now (read from the source itself when it is writable). */
  stored(name: string): Promise<StoredConfiguration>;
  /** Runs `update` with no other update of the same source in between. */
  exclusive<T>(name: string, update: () => Promise<T>): Promise<T>;
  /**
   * Validates, serves and stores a source's new configuration, only if the source still stores
   * `expected`. Throws `InvalidConfigurationError` when it is bad and `WriteConflictError` when the
   * source changed; nothing changes then. Resolves with the keys that changed.
   */
  replace(name: string, configuration: string, expected: string | undefined): Promise<Changes>;
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

/** The bearer token of a request (the scheme is case-insensitive, RFC 9110 §11.1). */
function bearerOf(req: IncomingMessage): string {
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ?? '';
}

/** Whether the request carries the token, compared in constant time. */
function authorised(req: IncomingMessage, token: string): boolean {
  const given = bearerOf(req);
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return given !== '' && timingSafeEqual(digest(given), digest(token));
}

/** The host name of a `Host` header, without its port and brackets. */
function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  return header.split(':')[0];
}

/**
 * Whether an `If-Match` header (`*` or a list of strong tags, RFC 9110 §13.1.1) lets a write to a
 * representation tagged `etag` go ahead. A weak tag never matches.
 */
export function ifMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === etag);
}

/** The source a request names (`?source=`), or the only one. */
function sourceOf(req: IncomingMessage, deps: AdminDeps): string | Error {
  const named = new URL(req.url ?? '/', 'http://admin').searchParams.get('source');
  if (named !== null)
    return deps.sources.has(named) ? named : new Error(`no source named "${named}"`);
  if (deps.sources.size === 1) return [...deps.sources.keys()][0] as string;
  return new Error(`name a source with ?source=: ${[...deps.sources.keys()].join(', ')}`);
}

/** A failed request: its status, message and headers. */
class Refusal {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly extra: Json = {},
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Who may use the admin API: a token when one is set; else loopback only, by bind and by `Host`. */
function access(req: IncomingMessage, deps: AdminDeps): Refusal | undefined {
  if (deps.token !== undefined) {
    if (authorised(req, deps.token)) return undefined;
    return new Refusal(
      401,
      'a valid "Authorization: Bearer <token>" header is required',
      {},
      { 'WWW-Authenticate': 'Bearer' },
    );
  }
  if (!deps.loopback)
    return new Refusal(403, 'the admin API needs a token when the server is bound beyond loopback');
  // DNS rebinding: a page on attacker.example resolving to 127.0.0.1 sends its own Host
  if (!isLoopbackHost(hostName(req.headers.host)))
    return new Refusal(403, 'without a token the admin API answers only a loopback Host header');
  return undefined;
}

/** The body of a PUT or PATCH, parsed within the size and depth limits. */
async function bodyOf(req: IncomingMessage, deps: AdminDeps): Promise<Body | Refusal> {
  const text = await readBody(req, deps.maxBytes);
  if (text === undefined) return new Refusal(413, `request body over ${deps.maxBytes} bytes`);
  const first = text.trimStart()[0];
  if (req.method === 'PUT' && first !== '{' && first !== '[') return { text, value: undefined }; // YAML: parsed when served
  try {
    return { text, value: parseJsonText(text, deps) };
  } catch (error) {
    return new Refusal(400, `the body is ${(error as Error).message}`);
  }
}

/** A PUT's or PATCH's body: its text, and its value when it is JSON (parsed once). */
interface Body {
  readonly text: string;
  readonly value: unknown;
}

/** The configuration a PUT or PATCH asks for, given what is stored now. */
function nextOf(req: IncomingMessage, body: Body, stored: StoredConfiguration): string | Refusal {
  if (req.method === 'PUT') return body.text;
  let current: unknown;
  try {
    current = parseJsonText(stored.json, { maxBytes: Infinity, maxDepth: Infinity });
  } catch (error) {
    return new Refusal(
      409,
      `the stored configuration cannot be patched: ${(error as Error).message}`,
    );
  }
  return JSON.stringify(mergePatch(current, body.value));
}

/** Replaces a source's configuration (PUT) or patches it (PATCH), compare-and-swap. */
async function update(
  req: IncomingMessage,
  name: string,
  deps: AdminDeps,
): Promise<Refusal | Json> {
  const body = await bodyOf(req, deps);
  if (body instanceof Refusal) return body;
  return deps.exclusive(name, async () => {
    const stored = await deps.stored(name);
    const etag = etagOf(stored.json);
    if (!ifMatches(req.headers['if-match'], etag))
      return new Refusal(
        412,
        'the configuration changed since it was read (If-Match does not match)',
        {
          etag,
        },
      );
    const next = nextOf(req, body, stored);
    if (next instanceof Refusal) return next;
    try {
      const changes = await deps.replace(name, next, stored.raw);
      deps.audit(
        `admin ${req.method} ${name}: added [${changes.added}] removed [${changes.removed}] changed [${changes.changed}]`,
      );
      return { source: name, etag: etagOf((await deps.stored(name)).json), ...changes };
    } catch (error) {
      if (isInvalidConfigurationError(error))
        return new Refusal(400, error.message, { issues: error.issues });
      if (isWriteConflictError(error))
        return new Refusal(
          412,
          `the configuration changed while it was being written: ${error.message}`,
        );
      throw error;
    }
  });
}

/**
 * The admin API: `GET /admin/flags` (the configuration and its ETag), `PUT` (replace it whole) and
 * `PATCH` (a JSON merge patch: `{"flags": {"checkout": {"defaultVariant": "on"}, "old": null}}`),
 * with `?source=` when the server has several. A bearer token is required when one is configured,
 * and always when the server is bound beyond loopback; without one, only a loopback `Host` is
 * served. `If-Match` is checked against what the source stores, at the moment of writing, with one
 * update of a source at a time. An update is validated whole before anything is written: a bad one
 * gets 400 with every issue, and nothing changes. Returns false for paths it does not serve.
 * @internal
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  deps: AdminDeps,
): Promise<boolean> {
  if (pathOf(req) !== ADMIN_PATH) return false;
  const answer = (outcome: Refusal | Json): true => {
    if (outcome instanceof Refusal)
      sendJson(res, outcome.status, { error: outcome.error, ...outcome.extra }, outcome.headers);
    else sendJson(res, 200, outcome);
    return true;
  };
  const denied = access(req, deps);
  if (denied !== undefined) return answer(denied);
  const name = sourceOf(req, deps);
  if (name instanceof Error) return answer(new Refusal(404, name.message));
  if (req.method === 'GET' || req.method === 'HEAD') {
    const { json } = await deps.stored(name);
    res.writeHead(200, { 'Content-Type': 'application/json', ETag: etagOf(json) });
    res.end(req.method === 'GET' ? json : undefined);
    return true;
  }
  if (req.method !== 'PUT' && req.method !== 'PATCH')
    return answer(new Refusal(405, 'use GET, PUT or PATCH', {}, { Allow: 'GET, PUT, PATCH' }));
  if (!deps.sources.get(name)?.writable)
    return answer(new Refusal(405, `source "${name}" cannot be written`, {}, { Allow: 'GET' }));
  return answer(await update(req, name, deps));
}
