import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isObject } from '../evaluator/json-path.js';
import { parseConfigurationText } from '../evaluator/parse-text.js';

/**
 * What a token may do on the management port: `read` (GET), `rollout` (kill, rollback, pause,
 * resume, and writes that only move traffic), `admin` (any edit, freeze), `alerts` (the
 * Alertmanager webhook, and nothing else). `admin` includes `rollout`, which includes `read`.
 */
export type Role = 'read' | 'rollout' | 'admin' | 'alerts';

/** One token and what it may do; its name is the `actor` of what it does in the audit log. */
export interface TokenGrant {
  readonly name: string;
  /** The token itself. */
  readonly token: string;
  readonly roles: readonly Role[];
}

/** A token given by its SHA-256 (hex), so the file that grants it does not hold it. */
export interface HashedGrant {
  readonly name: string;
  readonly sha256: string;
  readonly roles: readonly Role[];
}

/** Who a request comes from: a token's name and roles. */
export interface Caller {
  readonly name: string;
  readonly roles: ReadonlySet<Role>;
}

const ROLES: readonly Role[] = ['read', 'rollout', 'admin', 'alerts'];
const IMPLIES: Readonly<Record<Role, readonly Role[]>> = {
  read: ['read'],
  rollout: ['rollout', 'read'],
  admin: ['admin', 'rollout', 'read'],
  alerts: ['alerts'],
};
/** The shortest token accepted: shorter ones are guessable. */
export const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/;

/** Whether `caller` may act as `role` (roles include the ones below them). */
export function allows(caller: Caller, role: Role): boolean {
  return caller.roles.has(role);
}

/** The roles a grant's roles include. */
export function expandRoles(roles: readonly Role[]): ReadonlySet<Role> {
  return new Set(roles.flatMap((role) => IMPLIES[role]));
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * A hashed grant's SHA-256 as 32 bytes; throws a RangeError for one that is not 64 hex digits
 * (`Buffer.from` would quietly drop what is not hex, and a short digest cannot be compared).
 */
function sha256Of(grant: { name: string; sha256: string }): Buffer {
  const hex = grant.sha256.replace(/^sha256:/, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new RangeError(`token "${grant.name}": "sha256" must be the 64 hex digits of a SHA-256`);
  return Buffer.from(hex, 'hex');
}

/** A grant as held in memory: only the token's SHA-256, compared in constant time. */
interface HeldGrant {
  readonly name: string;
  readonly digest: Buffer;
  readonly roles: ReadonlySet<Role>;
}

/**
 * The tokens a server accepts. A token is found by comparing its SHA-256 with every grant's in
 * constant time, all of them every time, so neither a token's content nor its position shows in
 * the time taken.
 */
export class TokenTable {
  readonly #grants: readonly HeldGrant[];

  constructor(
    grants: readonly (TokenGrant | { name: string; sha256: string; roles: readonly Role[] })[],
  ) {
    this.#grants = grants.map((grant) => ({
      name: grant.name,
      digest: 'token' in grant ? digest(grant.token) : sha256Of(grant),
      roles: expandRoles(grant.roles),
    }));
  }

  /** Whether any token is configured. */
  get size(): number {
    return this.#grants.length;
  }

  /** The caller a bearer token belongs to, or undefined for an unknown or empty token. */
  identify(token: string): Caller | undefined {
    const given = digest(token);
    let found: HeldGrant | undefined;
    for (const grant of this.#grants)
      if (timingSafeEqual(given, grant.digest) && found === undefined) found = grant;
    return token === '' || found === undefined
      ? undefined
      : { name: found.name, roles: found.roles };
  }
}

/** The bearer token of a request (the scheme is case-insensitive, RFC 9110 §11.1), or ''. */
export function bearerOf(req: IncomingMessage): string {
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  return match?.[1] ?? '';
}

/** A roles file's problem, with where it is. */
export class RolesFileError extends Error {
  override readonly name = 'RolesFileError';
}

type RawGrant = TokenGrant | HashedGrant;

/** One `tokens[i]` entry, checked; throws naming the entry and what is wrong. */
function grantAt(entry: unknown, at: string): RawGrant {
  const fail = (message: string): never => {
    throw new RolesFileError(`${at}: ${message}`);
  };
  if (!isObject(entry)) return fail('is not an object');
  const unknown = Object.keys(entry).filter(
    (k) => !['name', 'roles', 'token', 'sha256'].includes(k),
  );
  if (unknown.length > 0) fail(`unknown key "${unknown[0]}" (name, roles, token or sha256)`);
  const { name, roles, token, sha256 } = entry;
  if (typeof name !== 'string' || !NAME.test(name))
    fail('"name" must be 1–64 letters, digits or . _ @ : - (it becomes the audit actor)');
  if (!Array.isArray(roles) || roles.length === 0)
    fail(`"roles" must be a non-empty list of ${ROLES.join(', ')}`);
  for (const role of roles as unknown[])
    if (!ROLES.includes(role as Role))
      fail(`unknown role ${JSON.stringify(role)} (${ROLES.join(', ')})`);
  if ((token === undefined) === (sha256 === undefined))
    fail('give exactly one of "token" and "sha256"');
  if (token !== undefined) {
    if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token))
      fail(`"token" must be a string of at least ${MIN_TOKEN_LENGTH} characters without spaces`);
    return { name: name as string, roles: roles as Role[], token: token as string };
  }
  if (typeof sha256 !== 'string' || !/^(sha256:)?[0-9a-fA-F]{64}$/.test(sha256))
    fail('"sha256" must be the 64 hex digits of the token\'s SHA-256');
  return {
    name: name as string,
    roles: roles as Role[],
    sha256: (sha256 as string).replace(/^sha256:/, '').toLowerCase(),
  };
}

/**
 * Parses a roles file (YAML or JSON): `tokens: [{ name, roles: [read|rollout|admin|alerts], token
 * | sha256 }]`. Names and tokens are unique; throws a {@link RolesFileError} naming the entry.
 */
export function parseRoles(text: string, origin = 'roles'): (TokenGrant | HashedGrant)[] {
  let doc: unknown;
  try {
    doc = parseConfigurationText(text, { maxBytes: 1024 * 1024, maxDepth: 16 });
  } catch (error) {
    throw new RolesFileError(`${origin}: ${(error as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc['tokens']))
    throw new RolesFileError(
      `${origin}: expected "tokens:" with a list of { name, roles, token | sha256 }`,
    );
  const grants = (doc['tokens'] as unknown[]).map((entry, i) =>
    grantAt(entry, `${origin}: tokens[${i}]`),
  );
  const names = new Set<string>();
  const digests = new Set<string>();
  grants.forEach((grant, i) => {
    if (names.has(grant.name))
      throw new RolesFileError(`${origin}: tokens[${i}]: the name "${grant.name}" is used twice`);
    names.add(grant.name);
    const hex = 'token' in grant ? digest(grant.token).toString('hex') : grant.sha256;
    if (digests.has(hex))
      throw new RolesFileError(`${origin}: tokens[${i}]: the same token is given twice`);
    digests.add(hex);
  });
  return grants;
}
