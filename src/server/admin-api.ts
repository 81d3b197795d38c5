import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObject } from '../evaluator/json-path.js';
import { parseJsonText } from '../evaluator/json-limits.js';
import type { AuditLog } from '../rollout/audit.js';
import { ALERTS_PATH, parseAlertPayload, type AlertHandler } from './alerts.js';
import { auditPage, freezeRequest, MAX_REASON, oneLine } from './admin-requests.js';
import {
  flagAction,
  freezeState,
  setFreeze,
  type FlagAction,
  type FlagActionDeps,
} from './flag-actions.js';
import { etagOf, isLoopbackHost, pathOf, readBody, sendJson } from './http-util.js';
import type { Operations } from './operations.js';
import { Refusal } from './refusal.js';
import { bearerOf, expandRoles, type Caller, type Role, type TokenTable } from './roles.js';
import type { Delivery } from './subscribers.js';

export { ifMatches } from './operations.js';

/** Where the admin API lives, on the management port. @internal */
export const ADMIN_PATH = '/admin/flags';

/** A source's configuration as the admin API shows it. @internal */
export interface StoredConfiguration {
  /** As JSON text (a YAML file converted); its ETag is the one clients send back in `If-Match`. */
  readonly json: string;
  /** Exactly as stored, for the compare-and-swap write; undefined for a source that is not written. */
  readonly raw: string | undefined;
}

/** What the management API needs from the server. @internal */
export interface AdminDeps {
  /** The tokens accepted; empty: only loopback callers, as `local`. */
  readonly tokens: TokenTable;
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
  readonly operations: Operations;
  readonly actions: FlagActionDeps;
  readonly alerts: AlertHandler;
  readonly audit: AuditLog | undefined;
  delivery(version: number): Delivery;
  whenDelivered(version: number, timeoutMs: number): Promise<Delivery>;
  /** Logs an accepted change. */
  log(line: string): void;
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

/** The host name of a `Host` header, without its port and brackets. */
function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  return header.split(':')[0];
}

/** The host name of an `Origin` header (`null` and anything unparsable: none). */
function originHost(origin: string): string | undefined {
  try {
    return hostName(new URL(origin).host);
  } catch {
    return undefined;
  }
}

/** Query parameters that carry credentials, refused: URLs end up in logs and browser histories. */
const CREDENTIAL_PARAMS = [
  'token',
  'access_token',
  'bearer',
  'auth',
  'authorization',
  'api_key',
  'apikey',
];

/**
 * A refusal for a request whose query string carries a credential (any letter case), checked
 * before anything else, whatever the method and path: the URL has been logged already, so the
 * answer says so and never echoes the value.
 */
function credentialInUrl(req: IncomingMessage): Refusal | undefined {
  const names = [...new URL(req.url ?? '/', 'http://admin').searchParams.keys()];
  const leaked = names.find((name) => CREDENTIAL_PARAMS.includes(name.toLowerCase()));
  return leaked === undefined
    ? undefined
    : new Refusal(
        400,
        `credentials go in the "Authorization: Bearer" header, never in the URL ("${leaked.toLowerCase()}" in the query string is refused)`,
      );
}

/** Roles a loopback caller has when no token is configured: everything but the webhook's. */
const LOCAL: Caller = { name: 'local', roles: expandRoles(['admin']) };

/**
 * Who is calling, if they may act as `role`: a token's holder (401 for a missing or unknown token,
 * 403 for one outside its role); with no tokens configured, a loopback caller (bind and `Host`) as
 * `local`, who may do anything but post alerts.
 */
function access(req: IncomingMessage, deps: AdminDeps, role: Role): Caller | Refusal {
  if (deps.tokens.size > 0 || role === 'alerts') {
    const caller = deps.tokens.identify(bearerOf(req));
    if (caller === undefined)
      return new Refusal(
        401,
        role === 'alerts' && deps.tokens.size === 0
          ? 'the alert webhook needs a token with the "alerts" role, and none is configured'
          : 'a valid "Authorization: Bearer <token>" header is required',
        {},
        { 'WWW-Authenticate': 'Bearer' },
      );
    if (!caller.roles.has(role))
      return new Refusal(403, `token "${caller.name}" does not have the "${role}" role`);
    return caller;
  }
  if (!deps.loopback)
    return new Refusal(403, 'the admin API needs a token when the server is bound beyond loopback');
  // DNS rebinding: a page on attacker.example resolving to 127.0.0.1 sends its own Host
  if (!isLoopbackHost(hostName(req.headers.host)))
    return new Refusal(403, 'without a token the admin API answers only a loopback Host header');
  // a web page anywhere may POST to 127.0.0.1 (a "simple" request: no preflight, the Host is
  // loopback), so a kill would need no token; browsers name the page's origin, tools send none
  const origin = req.headers.origin;
  if (origin !== undefined && !isLoopbackHost(originHost(origin)))
    return new Refusal(
      403,
      'without a token the admin API does not answer web pages from other origins',
    );
  return LOCAL;
}

/** A request body parsed as JSON within the limits; `{}` for an empty one when `optional`. */
async function jsonBody(
  req: IncomingMessage,
  deps: AdminDeps,
  optional: boolean,
): Promise<unknown> {
  const text = await readBody(req, deps.maxBytes);
  if (text === undefined) return new Refusal(413, `request body over ${deps.maxBytes} bytes`);
  if (optional && text.trim() === '') return {};
  try {
    return parseJsonText(text, deps);
  } catch (error) {
    return new Refusal(400, `the body is ${(error as Error).message}`);
  }
}

/** The source a request names (`?source=`), or the only one. */
function sourceOf(req: IncomingMessage, deps: AdminDeps): string | Refusal {
  const named = new URL(req.url ?? '/', 'http://admin').searchParams.get('source');
  if (named !== null)
    return deps.sources.has(named) ? named : new Refusal(404, `no source named "${named}"`);
  if (deps.sources.size === 1) return [...deps.sources.keys()][0] as string;
  return new Refusal(404, `name a source with ?source=: ${[...deps.sources.keys()].join(', ')}`);
}

/** GET, PUT or PATCH of a source's whole configuration. */
async function flagsEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  deps: AdminDeps,
): Promise<Refusal | Json | undefined> {
  const reading = req.method === 'GET' || req.method === 'HEAD';
  if (!reading && req.method !== 'PUT' && req.method !== 'PATCH')
    return new Refusal(405, 'use GET, PUT or PATCH', {}, { Allow: 'GET, PUT, PATCH' });
  const caller = access(req, deps, reading ? 'read' : 'rollout');
  if (caller instanceof Refusal) return caller;
  const name = sourceOf(req, deps);
  if (name instanceof Refusal) return name;
  if (reading) {
    const { json } = await deps.stored(name);
    res.writeHead(200, { 'Content-Type': 'application/json', ETag: etagOf(json) });
    res.end(req.method === 'GET' ? json : undefined);
    return undefined;
  }
  if (!deps.sources.get(name)?.writable)
    return new Refusal(405, `source "${name}" cannot be written`, {}, { Allow: 'GET' });
  const text = await readBody(req, deps.maxBytes);
  if (text === undefined) return new Refusal(413, `request body over ${deps.maxBytes} bytes`);
  let patch: unknown;
  const first = text.trimStart()[0];
  if (req.method === 'PATCH' || first === '{' || first === '[') {
    try {
      patch = parseJsonText(text, deps); // YAML (PUT only) is parsed when served
    } catch (error) {
      return new Refusal(400, `the body is ${(error as Error).message}`);
    }
    if (req.method === 'PATCH' && !isObject(patch))
      return new Refusal(400, 'a PATCH body is a JSON merge patch: an object');
  }
  const outcome = await deps.operations.mutate(
    name,
    {
      actor: caller.name,
      action: 'edit',
      reason: `admin ${req.method} ${name}`,
      ifMatch: req.headers['if-match'],
      trafficOnly: !caller.roles.has('admin'),
    },
    (doc) => {
      if (req.method === 'PUT') return text;
      if (doc === undefined)
        return new Refusal(
          409,
          'the stored configuration cannot be patched: it is not a JSON object',
        );
      return mergePatch(doc, patch) as Json;
    },
  );
  if (outcome instanceof Refusal) return outcome;
  const { added, removed, changed } = outcome.changes;
  if (outcome.changed)
    deps.log(
      `${caller.name}: admin ${req.method} ${name}: added [${added}] removed [${removed}] changed [${changed}]`,
    );
  return { source: name, etag: outcome.etag, added, removed, changed };
}

const FLAG_ACTION = /^\/admin\/flags\/([^/]+)\/(kill|rollback|pause|resume)$/;

/** `POST /admin/flags/{key}/{kill|rollback|pause|resume}`, body `{reason?, safeVariant?}`. */
async function flagActionEndpoint(
  req: IncomingMessage,
  deps: AdminDeps,
  match: RegExpExecArray,
): Promise<Refusal | Json> {
  if (req.method !== 'POST') return new Refusal(405, 'use POST', {}, { Allow: 'POST' });
  const caller = access(req, deps, 'rollout');
  if (caller instanceof Refusal) return caller;
  let key: string;
  try {
    key = decodeURIComponent(match[1] as string);
  } catch {
    return new Refusal(400, `the flag key "${match[1]}" is not valid percent-encoding`);
  }
  const body = await jsonBody(req, deps, true);
  if (body instanceof Refusal) return body;
  if (!isObject(body)) return new Refusal(400, 'the body is not a JSON object');
  const { reason, safeVariant } = body;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON))
    return new Refusal(400, `"reason" must be a string of at most ${MAX_REASON} characters`);
  if (safeVariant !== undefined && (typeof safeVariant !== 'string' || safeVariant === ''))
    return new Refusal(400, '"safeVariant" is not a variant name');
  const action = match[2] as FlagAction;
  const why = reason ?? `${action} through the admin API`;
  const outcome = await flagAction(
    deps.actions,
    key,
    action,
    { actor: caller.name, reason: why },
    safeVariant,
    caller.roles.has('admin'),
  );
  if (outcome instanceof Refusal) return outcome;
  if (outcome.changed) deps.log(`${caller.name}: ${action} ${key}: ${why}`);
  const { changes: _changes, ...rest } = outcome;
  return { ...rest, delivery: deps.delivery(outcome.version) };
}

/** `GET`, `PUT` and `DELETE /admin/freeze`. */
async function freezeEndpoint(req: IncomingMessage, deps: AdminDeps): Promise<Refusal | Json> {
  if (req.method === 'GET') {
    const caller = access(req, deps, 'read');
    return caller instanceof Refusal ? caller : { ...(await freezeState(deps.actions)) };
  }
  if (req.method !== 'PUT' && req.method !== 'DELETE')
    return new Refusal(405, 'use GET, PUT or DELETE', {}, { Allow: 'GET, PUT, DELETE' });
  const caller = access(req, deps, 'admin');
  if (caller instanceof Refusal) return caller;
  const body = await jsonBody(req, deps, req.method === 'DELETE');
  if (body instanceof Refusal) return body;
  const asked = freezeRequest(body, req.method === 'PUT', deps.actions.clock.now());
  if (asked instanceof Refusal) return asked;
  const outcome = await setFreeze(
    deps.actions,
    { actor: caller.name, reason: asked.reason },
    asked.until,
    req.method === 'PUT',
  );
  if (outcome instanceof Refusal) return outcome;
  if (outcome.changed)
    deps.log(`${caller.name}: ${req.method === 'PUT' ? 'freeze' : 'unfreeze'}: ${asked.reason}`);
  return { changed: outcome.changed, ...outcome.state };
}

/** `POST /admin/alerts`: Alertmanager's webhook. */
async function alertsEndpoint(req: IncomingMessage, deps: AdminDeps): Promise<Refusal | Json> {
  if (req.method !== 'POST') return new Refusal(405, 'use POST', {}, { Allow: 'POST' });
  const caller = access(req, deps, 'alerts');
  if (caller instanceof Refusal) return caller;
  const body = await jsonBody(req, deps, false);
  if (body instanceof Refusal) return body;
  let payload;
  try {
    payload = parseAlertPayload(body);
  } catch (error) {
    return new Refusal(400, (error as Error).message);
  }
  const { actions, failed } = await deps.alerts.handle(caller.name, payload);
  for (const a of actions)
    if (a.changed) deps.log(`${caller.name}: ${a.action} ${a.flag ?? ''}: ${a.reason}`);
  // a failed change answers 503, so Alertmanager sends the alerts again
  return failed
    ? new Refusal(503, 'some alerts could not be acted on; send them again', { actions })
    : { actions };
}

/** `GET /admin/delivery?version=<n>&wait=<ms>`. */
async function deliveryEndpoint(req: IncomingMessage, deps: AdminDeps): Promise<Refusal | Json> {
  if (req.method !== 'GET') return new Refusal(405, 'use GET', {}, { Allow: 'GET' });
  const caller = access(req, deps, 'read');
  if (caller instanceof Refusal) return caller;
  const query = new URL(req.url ?? '/', 'http://admin').searchParams;
  const version = Number(query.get('version') ?? Number.NaN);
  const wait = Number(query.get('wait') ?? 0);
  if (!Number.isSafeInteger(version) || version < 0)
    return new Refusal(400, '"version" must be a configuration version (an integer from 0)');
  if (!Number.isFinite(wait) || wait < 0 || wait > 30_000)
    return new Refusal(400, '"wait" must be 0 to 30000 ms');
  return { ...(wait > 0 ? await deps.whenDelivered(version, wait) : deps.delivery(version)) };
}

/**
 * The management API on the management port: `/admin/flags` (GET the configuration; PUT or PATCH
 * it, compare-and-swap with `If-Match`), `/admin/flags/{key}/{kill|rollback|pause|resume}`,
 * `/admin/freeze`, `/admin/alerts` (Alertmanager's webhook), `/admin/audit` and `/admin/delivery`.
 * Each needs a role (see {@link Role}); every change is audited. Returns false for paths it does
 * not serve.
 * @internal
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  deps: AdminDeps,
): Promise<boolean> {
  const path = pathOf(req);
  if (path !== '/admin' && !path.startsWith('/admin/')) return false;
  const logged: AdminDeps = { ...deps, log: (line) => deps.log(oneLine(line)) };
  const outcome = credentialInUrl(req) ?? (await route(req, res, logged, path));
  if (outcome === undefined) return true;
  if (outcome instanceof Refusal)
    sendJson(res, outcome.status, { error: outcome.error, ...outcome.extra }, outcome.headers);
  else sendJson(res, 200, outcome);
  return true;
}

/** The endpoint `path` names, or a 404. */
async function route(
  req: IncomingMessage,
  res: ServerResponse,
  deps: AdminDeps,
  path: string,
): Promise<Refusal | Json | undefined> {
  const action = FLAG_ACTION.exec(path);
  if (path === ADMIN_PATH) return flagsEndpoint(req, res, deps);
  if (action !== null) return flagActionEndpoint(req, deps, action);
  if (path === '/admin/freeze') return freezeEndpoint(req, deps);
  if (path === ALERTS_PATH) return alertsEndpoint(req, deps);
  if (path === '/admin/delivery') return deliveryEndpoint(req, deps);
  if (path === '/admin/audit') {
    if (req.method !== 'GET') return new Refusal(405, 'use GET', {}, { Allow: 'GET' });
    const caller = access(req, deps, 'read');
    return caller instanceof Refusal ? caller : auditPage(req, deps.audit);
  }
  return new Refusal(404, `no admin endpoint ${path}`);
}
