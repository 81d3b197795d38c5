import { createHash } from 'node:crypto';
import type * as Crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Every comparison identification makes goes through this spy: the module under test imports
// `timingSafeEqual` from node:crypto, and vi.mock replaces it for every module of this file.
const compared = vi.hoisted(() => [] as [Buffer, Buffer][]);
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  const timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    compared.push([Buffer.from(a as Buffer), Buffer.from(b as Buffer)]);
    return actual.timingSafeEqual(a, b);
  };
  return { ...actual, default: { ...actual, timingSafeEqual }, timingSafeEqual };
});

const { TokenTable } = await import('../../src/server/roles.js');

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const grants = [
  { name: 'first', token: 'first-token-0123456789', roles: ['read' as const] },
  { name: 'second', token: 'second-token-0123456789', roles: ['rollout' as const] },
  {
    name: 'hashed',
    sha256: sha256('hashed-token-0123456789').toString('hex'),
    roles: ['admin' as const],
  },
  { name: 'last', token: 'last-token-0123456789', roles: ['alerts' as const] },
];

describe('token identification', () => {
  beforeEach(() => {
    compared.length = 0;
  });

  it.each([
    ['the first grant', 'first-token-0123456789', 'first'],
    ['a middle grant', 'second-token-0123456789', 'second'],
    ['a hashed grant', 'hashed-token-0123456789', 'hashed'],
    ['the last grant', 'last-token-0123456789', 'last'],
    ['an unknown token', 'unknown-token-0123456789', undefined],
    ['the last character changed', 'last-token-012345678X', undefined],
    ['one character short', 'last-token-012345678', undefined],
    ['one character long', 'last-token-01234567890', undefined],
    ['a very long token', 'x'.repeat(100_000), undefined],
    ['an empty token', '', undefined],
    ['non-ASCII', 'läst-tökén-0123456789', undefined],
  ])('compares %s with every grant, in constant time on equal-length digests', (_, token, name) => {
    const table = new TokenTable(grants);
    expect(table.identify(token)?.name).toBe(name);
    expect(compared).toHaveLength(grants.length);
    const given = sha256(token);
    for (const [a, b] of compared) {
      expect(a).toEqual(given); // the token's digest, never the token
      expect(a.length).toBe(32);
      expect(b.length).toBe(32);
    }
    const held = grants.map((g) => ('token' in g ? sha256(g.token) : Buffer.from(g.sha256, 'hex')));
    expect(compared.map(([, b]) => b)).toEqual(held); // each grant once, in order
  });

  it('refuses at start a hashed grant that is not 64 hex digits (it could never be compared)', () => {
    for (const bad of ['abc', 'zz'.repeat(32), `${'a'.repeat(64)}00`, ''])
      expect(() => new TokenTable([{ name: 'bad', sha256: bad, roles: ['read'] }])).toThrow(
        /"bad".*64 hex/,
      );
    const prefixed = new TokenTable([
      {
        name: 'ok',
        sha256: `sha256:${sha256('prefixed-token-0123456789').toString('hex').toUpperCase()}`,
        roles: ['read'],
      },
    ]);
    expect(prefixed.identify('prefixed-token-0123456789')?.name).toBe('ok');
  });
});
