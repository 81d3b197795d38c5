import type { IncomingMessage } from 'node:http';
import { isObject } from '../evaluator/json-path.js';
import { GENESIS, type AuditLog } from '../rollout/audit.js';
import { parseDuration } from '../rollout/duration.js';
import { Refusal } from './refusal.js';

type Json = Record<string, unknown>;

/** The most records one page of `GET /admin/audit` holds. */
export const MAX_AUDIT_PAGE = 1000;

/**
 * `GET /admin/audit?after=<seq>&limit=<n>&flag=<key>`: the records after `after` (oldest first),
 * at most `limit` (default 100), of one flag if asked; `next` is the `after` of the next page (null
 * on the last), `head` the last record's hash. A log whose chain breaks is a 500 naming the line.
 * @internal
 */
export async function auditPage(
  req: IncomingMessage,
  audit: AuditLog | undefined,
): Promise<Refusal | Json> {
  if (audit === undefined) return new Refusal(404, 'this server keeps no audit log');
  const query = new URL(req.url ?? '/', 'http://admin').searchParams;
  const after = Number(query.get('after') ?? 0);
  const limit = Number(query.get('limit') ?? 100);
  const flag = query.get('flag');
  if (!Number.isSafeInteger(after) || after < 0)
    return new Refusal(400, '"after" must be a record number (an integer from 0)');
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE)
    return new Refusal(400, `"limit" must be 1 to ${MAX_AUDIT_PAGE}`);
  const verified = await audit.verify();
  if (!verified.ok)
    return new Refusal(
      500,
      `the audit log's chain breaks at line ${verified.line}: ${verified.problem}`,
    );
  const matching = verified.records.filter(
    (r) => r.seq > after && (flag === null || r.flag === flag),
  );
  const records = matching.slice(0, limit);
  const next = matching.length > limit ? (records.at(-1)?.seq ?? null) : null;
  return { records, next, head: verified.hashes.at(-1) ?? GENESIS, total: verified.records.length };
}

/** The longest reason a request may give (it goes into every record and log line). */
export const MAX_REASON = 1000;

/**
 * `text` on one line: control characters (a newline in a reason, a label, a flag key) become
 * spaces, so what a caller sends cannot forge a line of the server's log. @internal
 */
export function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, ' ');
}

/** The longest a freeze may be set to last; a longer one ends only by an unfreeze (leave out `for` and `until`). */
export const MAX_FREEZE_MS = 366 * 86_400_000;

/** A freeze's reason and end from a `PUT` (`{reason, for?: "2h" | until?: ISO}`) or `DELETE` body. @internal */
export function freezeRequest(
  body: unknown,
  freezing: boolean,
  now: number,
): Refusal | { reason: string; until: number | undefined } {
  if (!isObject(body)) return new Refusal(400, 'the body is not a JSON object');
  const { reason, until, for: lasting } = body;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON))
    return new Refusal(400, `"reason" must be a string of at most ${MAX_REASON} characters`);
  if (freezing && (typeof reason !== 'string' || reason.trim() === ''))
    return new Refusal(
      400,
      'a freeze needs a "reason" (the incident), for the audit log and everyone who sees it',
    );
  if (!freezing)
    return {
      reason: typeof reason === 'string' && reason !== '' ? reason : 'unfrozen',
      until: undefined,
    };
  if (until !== undefined && lasting !== undefined)
    return new Refusal(400, 'give "for" or "until", not both');
  let end: number | undefined;
  if (lasting !== undefined) {
    const ms = parseDuration(lasting);
    if (ms === undefined || ms <= 0 || typeof lasting !== 'string')
      return new Refusal(400, '"for" must be a duration such as "90m" or "2h"');
    end = now + ms;
  }
  if (until !== undefined) {
    end = typeof until === 'string' ? Date.parse(until) : Number.NaN;
    if (Number.isNaN(end)) return new Refusal(400, '"until" must be an ISO time');
    if (end <= now) return new Refusal(400, '"until" is in the past');
  }
  if (end !== undefined && !(end - now <= MAX_FREEZE_MS))
    return new Refusal(
      400,
      'a freeze may be set to end at most 366 days ahead; for one that lasts until an unfreeze, leave out "for" and "until"',
    );
  return { reason: reason as string, until: end };
}
