import type { Delivery } from '../server/subscribers.js';
import type { FreezeView } from '../rollout/freeze.js';
import { isObject } from '../evaluator/json-path.js';
import { boundedText } from '../rollout/writers.js';

type Json = Record<string, unknown>;

/** The role a request needs, named in the hint of a 401. */
export type AdminRole = 'read' | 'rollout' | 'admin';

/** A refusal or failure of the management API, with its HTTP status (0: no answer). */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  readonly status: number;

  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

/** A `rampflag serve` management API, as the CLI calls it. */
export interface AdminClient {
  /** The server as messages name it, without credentials. */
  readonly target: string;
  /** Whether a token is sent. */
  readonly hasToken: boolean;
  /**
   * Sends one request and resolves with the JSON answer; rejects with an {@link AdminApiError}
   * whose message says what to do (a 401 names `RAMPFLAG_TOKEN` and `role`).
   */
  request(
    method: string,
    path: string,
    options: { role: AdminRole; body?: unknown; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<Json>;
}

/** The largest answer read, in bytes: a whole configuration fits. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The token from the environment (never argv): `RAMPFLAG_TOKEN`, else `RAMPFLAG_ADMIN_TOKEN`. */
export function tokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  return env['RAMPFLAG_TOKEN'] || env['RAMPFLAG_ADMIN_TOKEN'] || undefined;
}

/** The server's `error` in an answer's JSON, or the start of its text. */
function messageIn(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (isObject(parsed) && typeof parsed['error'] === 'string') return parsed['error'];
  } catch {
    // not JSON: the text says what it says
  }
  return body.slice(0, 200) || 'no message';
}

/** What a refusal means for the person at the terminal. */
function refusalMessage(status: number, message: string, role: AdminRole, token: boolean): string {
  if (status === 401)
    return `${token ? 'the server does not accept the token in RAMPFLAG_TOKEN' : 'no token'}: set RAMPFLAG_TOKEN to a token with the ${role} role (${message})`;
  if (status === 403 || status === 423) return message;
  return `${status}: ${message}`;
}

/**
 * A client of the management API at `url` (the server's management address, `http://host:8014`),
 * sending `token` as a bearer token. Each request has a timeout (default 10 s) and a bounded answer.
 *
 * @example
 * const admin = adminClient('http://localhost:8014', tokenFrom(process.env));
 * await admin.request('POST', '/admin/flags/checkout/kill', { role: 'rollout', body: {} });
 */
export function adminClient(url: string, token: string | undefined): AdminClient {
  const base = new URL(url);
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  // a path prefix (a proxy's) is kept; `…/admin/flags`, as --admin once took, means the server
  const prefix = base.pathname.replace(/\/+$/, '').replace(/\/admin\/flags$/, '');
  base.pathname = prefix || '/';
  const target = base.href.replace(/\/$/, '');
  const auth: Record<string, string> =
    token === undefined ? {} : { Authorization: `Bearer ${token}` };
  return {
    target,
    hasToken: token !== undefined,
    async request(method, path, { role, body, timeoutMs = 10_000, signal }) {
      const timeout = AbortSignal.timeout(Math.ceil(timeoutMs));
      const at = new URL(base);
      const [pathname, query] = path.split('?') as [string, string | undefined];
      at.pathname = `${prefix}${pathname}`;
      at.search = query === undefined ? '' : `?${query}`;
      let res: Response;
      let text: string;
      try {
        res = await fetch(at, {
          method,
          headers: {
            ...auth,
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
        });
        text = await boundedText(res, MAX_ANSWER_BYTES, target);
      } catch (error) {
        const name = (error as Error).name;
        const cause = (error as Error).cause;
        const why =
          signal?.aborted === true
            ? 'stopped'
            : name === 'TimeoutError' || name === 'AbortError'
              ? `no answer within ${timeoutMs} ms`
              : cause instanceof Error
                ? cause.message
                : (error as Error).message;
        throw new AdminApiError(`cannot reach ${target} (${method} ${path}): ${why}`, 0, {
          cause: error,
        });
      }
      if (!res.ok)
        throw new AdminApiError(
          refusalMessage(res.status, messageIn(text), role, token !== undefined),
          res.status,
        );
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        answer = undefined;
      }
      if (!isObject(answer))
        throw new AdminApiError(
          `${target} answered ${method} ${path} with no JSON object`,
          res.status,
        );
      return answer;
    },
  };
}

/** How far the sync streams were sent a configuration version (`GET /admin/delivery`). */
export type DeliveryView = Omit<Delivery, 'transports'> & {
  /** By transport; a newer server may name transports this client does not know. */
  readonly transports: Readonly<
    Record<string, { readonly streams: number; readonly sent: number }>
  >;
};

/** The answer to `POST /admin/flags/{key}/{action}`. */
export interface FlagActionAnswer extends Json {
  readonly flag: string;
  readonly action: string;
  readonly changed: boolean;
  readonly status?: string;
  readonly safeVariant?: string;
  readonly version: number;
  readonly delivery?: DeliveryView;
  readonly unaudited?: string;
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : Number.NaN;

/** A delivery answer checked for its counts; an {@link AdminApiError} when it has none. */
export function deliveryOf(answer: unknown): DeliveryView {
  const d = isObject(answer) ? answer : {};
  const [version, current, streams, sent, pending] = [
    d['version'],
    d['current'],
    d['streams'],
    d['sent'],
    d['pending'],
  ].map(count) as [number, number, number, number, number];
  if ([version, current, streams, sent, pending].some(Number.isNaN))
    throw new AdminApiError('the server answered with no delivery counts', 200);
  const transports = Object.fromEntries(
    Object.entries(isObject(d['transports']) ? d['transports'] : {}).flatMap(([name, t]) => {
      const of = isObject(t) ? { streams: count(t['streams']), sent: count(t['sent']) } : undefined;
      return of && !Number.isNaN(of.streams) && !Number.isNaN(of.sent) ? [[name, of]] : [];
    }),
  );
  return { version, current, streams, sent, pending, transports };
}

/** A flag action's answer checked for what the CLI reads. */
export function flagActionOf(answer: Json): FlagActionAnswer {
  if (
    typeof answer['flag'] !== 'string' ||
    typeof answer['changed'] !== 'boolean' ||
    Number.isNaN(count(answer['version']))
  )
    throw new AdminApiError(
      'the server answered the action without its flag, change and version',
      200,
    );
  return answer as FlagActionAnswer;
}

/** A freeze answer (`GET`, `PUT`, `DELETE /admin/freeze`) checked, keeping what else it says. */
export function freezeOf<T extends Json>(answer: T): T & FreezeView {
  if (typeof answer['frozen'] !== 'boolean')
    throw new AdminApiError('the server answered without saying whether rollouts are frozen', 200);
  for (const key of ['reason', 'by', 'since', 'until'])
    if (answer[key] !== undefined && typeof answer[key] !== 'string')
      throw new AdminApiError(`the server's freeze has a "${key}" that is not text`, 200);
  return answer as T & FreezeView;
}
