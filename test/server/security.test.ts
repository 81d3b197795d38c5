import { describe, expect, it } from 'vitest';
import {
  ADVANCE,
  CHECKOUT_ALERT,
  FLAGS,
  TOKENS,
  TRAFFIC_PATCH,
  alert,
  secured,
  webhook,
  type Auth,
  type Loose,
  type Secured,
} from '../support/management-api.js';

/** What an endpoint needs: a role, or (`traffic`) the rollout role for a change that only moves traffic. */
type Need = 'read' | 'traffic' | 'rollout' | 'admin' | 'alerts';

const PUT_TRAFFIC = JSON.stringify({
  flags: { ...FLAGS, checkout: { ...FLAGS.checkout, ...TRAFFIC_PATCH.flags.checkout } },
});

/** Every management endpoint, with a request each role that may make it makes successfully. */
const ENDPOINTS: readonly [string, string, string, Need, unknown][] = [
  ['GET /admin/flags', 'GET', '/admin/flags', 'read', undefined],
  ['PUT /admin/flags', 'PUT', '/admin/flags', 'traffic', PUT_TRAFFIC],
  ['PATCH /admin/flags', 'PATCH', '/admin/flags', 'traffic', TRAFFIC_PATCH],
  ['kill', 'POST', '/admin/flags/checkout/kill', 'rollout', { reason: 'INC-1' }],
  ['rollback', 'POST', '/admin/flags/checkout/rollback', 'rollout', { reason: 'INC-1' }],
  ['pause', 'POST', '/admin/flags/checkout/pause', 'rollout', undefined],
  ['resume', 'POST', '/admin/flags/search/resume', 'rollout', undefined],
  ['GET /admin/freeze', 'GET', '/admin/freeze', 'read', undefined],
  ['PUT /admin/freeze', 'PUT', '/admin/freeze', 'admin', { reason: 'INC-1', for: '1h' }],
  ['DELETE /admin/freeze', 'DELETE', '/admin/freeze', 'admin', undefined],
  ['POST /admin/alerts', 'POST', '/admin/alerts', 'alerts', CHECKOUT_ALERT],
  ['GET /admin/audit', 'GET', '/admin/audit', 'read', undefined],
  ['GET /admin/delivery', 'GET', '/admin/delivery?version=0', 'read', undefined],
];

/** Who calls: the auth sent, the actor its changes are recorded under, what it may do, and how it is refused. */
const CALLERS: readonly [string, Auth, string, readonly Need[], 401 | 403][] = [
  ['read', 'reader', 'reader', ['read'], 403],
  ['rollout', 'release', 'release', ['read', 'traffic', 'rollout'], 403],
  ['admin', 'oncall', 'oncall', ['read', 'traffic', 'rollout', 'admin'], 403],
  ['alerts', 'alertmanager', 'alertmanager', ['alerts'], 403],
  ['no token', undefined, '', [], 401],
  ['an unknown token', { header: 'Bearer not-a-granted-token-0123456789' }, '', [], 401],
  ['local (loopback, no tokens)', undefined, 'local', ['read', 'traffic', 'rollout', 'admin'], 401],
];

const MATRIX = CALLERS.flatMap(([who, auth, actor, may, refusal]) =>
  ENDPOINTS.map(([what, method, path, need, body]) => {
    const status = may.includes(need) ? 200 : refusal;
    return { who, auth, actor, what, method, path, body, status, local: who.startsWith('local') };
  }),
);

describe('roles on every management endpoint', () => {
  it.each(MATRIX)(
    '$who: $what answers $status',
    async ({ auth, actor, method, path, body, status, local }) => {
      const server = await secured(local ? { tokens: [] } : {});
      const before = server.bytes();
      const answer = await server.call(method, path, auth, body);
      expect(answer.status, answer.text).toBe(status);
      if (status === 401) expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      if (status !== 200) {
        expect(answer.body).toMatchObject({ error: expect.any(String) });
        expect(server.bytes()).toEqual(before); // the file and the audit log, byte for byte
        return;
      }
      const records = server.records();
      if (method === 'GET' || path === '/admin/freeze') {
        if (method === 'GET') expect(server.bytes()).toEqual(before);
        for (const r of records) expect(r.actor).toBe(actor);
        return;
      }
      // every change is audited under the caller's name
      expect(records.length).toBeGreaterThan(0);
      for (const r of records) expect(r.actor).toBe(actor);
      expect(server.bytes().file).not.toBe(before.file);
    },
  );

  it('refuses a rollout token that changes more than traffic, an admin token on the webhook, and a read token on a freeze, changing nothing', async () => {
    const server = await secured();
    const before = server.bytes();
    const refused = [
      await server.call('PATCH', '/admin/flags', 'release', {
        flags: { checkout: { state: 'DISABLED' } },
      }),
      await server.call('PATCH', '/admin/flags', 'release', {
        metadata: { 'rollout.frozen': null },
      }),
      await server.call('PATCH', '/admin/flags', 'release', { flags: { added: FLAGS.banner } }),
      await server.call('PATCH', '/admin/flags', 'release', { flags: { banner: null } }),
      await server.call('PATCH', '/admin/flags', 'release', {
        flags: { banner: { metadata: { owner: 'someone else' } } },
      }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect(server.bytes()).toEqual(before);
  });
});

describe('credentials in the URL', () => {
  const NAMES = ['token', 'access_token', 'bearer', 'auth', 'authorization'];
  const cases = NAMES.flatMap((name) =>
    [
      ['GET', '/admin/flags'],
      ['POST', '/admin/flags/checkout/kill'],
      ['PUT', '/admin/freeze'],
      ['GET', '/admin/audit'],
    ].map(([method, path]) => ({ name, method: method as string, path: path as string })),
  );

  it.each(cases)(
    'refuses ?$name= on $method $path with 400, even with a valid token, without echoing it',
    async ({ name, method, path }) => {
      const server = await secured();
      const before = server.bytes();
      for (const auth of [undefined, 'oncall'] as const) {
        const answer = await server.call(
          method,
          `${path}?${name}=${TOKENS.oncall}`,
          auth,
          method === 'GET' ? undefined : { reason: 'INC-1' },
        );
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ error: expect.stringContaining('Authorization') });
        expect(answer.text).not.toContain(TOKENS.oncall);
        expect(answer.text).not.toContain('admin-token');
      }
      expect(server.bytes()).toEqual(before);
    },
  );

  it('refuses them whatever the method, path, letter case or encoding', async () => {
    const server = await secured();
    const before = server.bytes();
    for (const [method, path] of [
      ['POST', `/admin/flags?token=${TOKENS.oncall}`], // a method the endpoint does not take
      ['GET', `/admin/nowhere?access_token=${TOKENS.oncall}`], // no such endpoint
      ['GET', `/admin/flags?Token=${TOKENS.oncall}`],
      ['GET', `/admin/flags?ACCESS_TOKEN=${TOKENS.oncall}`],
      ['GET', `/admin/flags?%74oken=${TOKENS.oncall}`],
      ['GET', `/admin/flags?source=default&auth=${TOKENS.oncall}`],
    ] as const) {
      const answer = await server.call(method, path, 'oncall');
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.text).not.toContain(TOKENS.oncall);
    }
    expect(server.bytes()).toEqual(before);
  });
});

describe('token identification', () => {
  it('refuses a token differing in its last character, one of another length, and other schemes', async () => {
    const server = await secured();
    const valid = TOKENS.oncall;
    for (const header of [
      `Bearer ${valid.slice(0, -1)}${valid.endsWith('f') ? 'e' : 'f'}`,
      `Bearer ${valid.slice(0, -1)}`,
      `Bearer ${valid}0`,
      `Bearer ${valid.toUpperCase()}`,
      `Basic ${Buffer.from(`oncall:${valid}`).toString('base64')}`,
      `Token ${valid}`,
      valid,
      'Bearer',
      'Bearer ',
    ]) {
      const answer = await server.call('GET', '/admin/flags', { header });
      expect(answer.status, header).toBe(401);
      expect(answer.text).not.toContain(valid);
    }
    expect((await server.call('GET', '/admin/flags', { header: `bEaReR ${valid}` })).status).toBe(
      200,
    );
  });
});

/** A server whose checkout rollout the next request may kill, for limits on what it is sent. */
const server = () => secured({ adminMaxBytes: 64 * 1024 });

describe('hostile input', () => {
  it('refuses an alerts payload over the body limit with 413', async () => {
    const s = await server();
    const big = webhook(alert({ flag_key: 'checkout', padding: 'x'.repeat(70 * 1024) }));
    const answer = await s.call('POST', '/admin/alerts', 'alertmanager', big);
    expect(answer.status).toBe(413);
    expect(s.stored()['checkout']?.['metadata']['rollout.status']).toBe('running');
  });

  it('refuses a payload nested 10,000 deep with 400 naming the depth', async () => {
    const s = await server();
    const deep = `{"version":"4","alerts":[],"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    for (const [path, auth] of [
      ['/admin/alerts', 'alertmanager'],
      ['/admin/flags/checkout/kill', 'release'],
      ['/admin/freeze', 'oncall'],
    ] as const) {
      const answer = await s.call(path === '/admin/freeze' ? 'PUT' : 'POST', path, auth, deep);
      expect(answer.status, path).toBe(400);
      expect(answer.body.error, path).toMatch(/deep|depth|nest/i);
    }
    const patch = await s.call('PATCH', '/admin/flags', 'oncall', deep);
    expect(patch.status).toBe(400);
    expect(s.records()).toEqual([]);
  });

  it('refuses 1,001 alerts in one payload with 400, and acts on 1,000', async () => {
    const s = await secured();
    const many = (n: number) =>
      webhook(
        ...Array.from({ length: n }, (_, i) => alert({ team: 'x' }, { fingerprint: `f${i}` })),
      );
    const refused = await s.call('POST', '/admin/alerts', 'alertmanager', many(1001));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/\$\.alerts.*1001.*1000/);
    const accepted = await s.call('POST', '/admin/alerts', 'alertmanager', many(1000));
    expect(accepted.status).toBe(200);
    expect(accepted.body.actions).toHaveLength(1000);
  });

  it('keeps "__proto__" and "constructor" labels as data: no prototype pollution', async () => {
    const s = await secured();
    const hostile = `{"version":"4","receiver":"r","groupKey":"g","alerts":[{"status":"firing","fingerprint":"p1","startsAt":"2026-11-29T10:05:00Z","labels":{"__proto__":{"polluted":"yes"},"flag_key":"checkout"}},{"status":"firing","fingerprint":"p2","startsAt":"2026-11-29T10:05:00Z","labels":{"__proto__":"x","constructor":"checkout","alertname":"Evil"},"annotations":{"__proto__":"y","constructor":"z"}}]}`;
    const answer = await s.call('POST', '/admin/alerts', 'alertmanager', hostile);
    // the first alert's labels are not all strings: refused, naming where
    expect(answer.status).toBe(400);
    expect(answer.body.error).toContain('$.alerts[0].labels.__proto__');
    const strings = hostile.replace('{"__proto__":{"polluted":"yes"},', '{"__proto__":"polluted",');
    const ok = await s.call('POST', '/admin/alerts', 'alertmanager', strings);
    expect(ok.status).toBe(200);
    expect(ok.body.actions).toMatchObject([
      { fingerprint: 'p1', flag: 'checkout', action: 'rollback', changed: true },
      { fingerprint: 'p2', action: 'none', changed: false },
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const [record] = s.records();
    expect(Object.hasOwn((record?.evidence as Loose).alert.labels, '__proto__')).toBe(true);
    // a PATCH with a "__proto__" key keeps it a key, and pollutes nothing
    const patch = await s.call(
      'PATCH',
      '/admin/flags',
      'oncall',
      '{"flags":{"banner":{"metadata":{"__proto__":{"polluted":"yes"}}}},"__proto__":{"polluted":"yes"}}',
    );
    expect([200, 400]).toContain(patch.status);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('answers 404 for a flag named "__proto__" or "constructor", writing nothing', async () => {
    const s = await secured();
    const before = s.bytes();
    for (const key of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      '%5F%5Fproto%5F%5F',
    ])
      for (const action of ['kill', 'rollback', 'pause', 'resume']) {
        const answer = await s.call('POST', `/admin/flags/${key}/${action}`, 'oncall', {
          safeVariant: 'off',
        });
        expect(answer.status, `${key} ${action}`).toBe(404);
      }
    expect(s.bytes()).toEqual(before);
  });

  it('refuses a flag key in bad percent-encoding with 400', async () => {
    const s = await secured();
    const before = s.bytes();
    for (const key of ['%E0%A4%A', '%', '%zz', 'check%FFout']) {
      const answer = await s.call('POST', `/admin/flags/${key}/kill`, 'release');
      expect(answer.status, key).toBe(400);
    }
    expect(s.bytes()).toEqual(before);
  });

  it.each([
    ['for "-1h"', { for: '-1h' }],
    ['for "10y"', { for: '10y' }],
    ['for "0s"', { for: '0s' }],
    ['for a number', { for: 3_600_000 }],
    ['for a huge duration', { for: `${'9'.repeat(20)}d` }],
    ['for a duration past any date', { for: `${'9'.repeat(400)}h` }],
    ['for over a year', { for: '400d' }],
    ['until in the past', { until: '2000-01-01T00:00:00Z' }],
    ['until now-ish', { until: new Date(Date.now() - 1000).toISOString() }],
    ['until not a time', { until: 'tomorrow' }],
    ['until over a year ahead', { until: '9999-12-31T00:00:00Z' }],
    ['for and until', { for: '1h', until: '2999-01-01T00:00:00Z' }],
    ['no reason', { reason: undefined, for: '1h' }],
    ['a blank reason', { reason: '   ', for: '1h' }],
    ['a 1 MB reason', { reason: 'x'.repeat(1024 * 1024) }],
  ])('refuses a freeze with %s (400), freezing nothing', async (_, fields) => {
    const s = await secured();
    const before = s.bytes();
    const answer = await s.call('PUT', '/admin/freeze', 'oncall', { reason: 'INC-1', ...fields });
    expect(answer.status, answer.text).toBe(400);
    expect(s.bytes()).toEqual(before);
    expect((await s.call('GET', '/admin/freeze', 'reader')).body).toEqual({ frozen: false });
  });

  it('accepts a freeze for "90m" and until a time within the year', async () => {
    const s = await secured();
    const timed = await s.call('PUT', '/admin/freeze', 'oncall', { reason: 'INC-1', for: '90m' });
    expect(timed.status).toBe(200);
    expect(Date.parse(timed.body.until) - Date.now()).toBeGreaterThan(89 * 60_000);
    await s.call('DELETE', '/admin/freeze', 'oncall');
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const dated = await s.call('PUT', '/admin/freeze', 'oncall', { reason: 'INC-2', until });
    expect(dated.body).toMatchObject({ frozen: true, until });
  });

  it('refuses a kill whose reason is 1 MB (400), and truncates a 1 MB alert summary in the record', async () => {
    const s = await secured();
    const before = s.bytes();
    const huge = 'x'.repeat(1024 * 1024);
    const kill = await s.call('POST', '/admin/flags/checkout/kill', 'release', { reason: huge });
    expect(kill.status).toBe(400);
    expect(kill.body.error).toMatch(/reason/);
    expect(s.bytes()).toEqual(before);
    // an alert is never refused for its text: the rollback happens, its reason is cut short
    const long = alert({ flag_key: 'checkout' });
    const fired = await s.call('POST', '/admin/alerts', 'alertmanager', {
      ...webhook({ ...long, annotations: { summary: huge } }),
    });
    expect(fired.status).toBe(200);
    expect(fired.body.actions[0]).toMatchObject({ action: 'rollback', changed: true });
    expect(fired.body.actions[0].reason.length).toBeLessThanOrEqual(1000);
    expect(s.records()[0]?.reason.length).toBeLessThanOrEqual(1000);
  });

  it.each([
    ['after=-1', 400],
    ['after=abc', 400],
    ['after=1.5', 400],
    ['limit=0', 400],
    ['limit=1001', 400],
    ['limit=abc', 400],
    ['limit=-5', 400],
    ['limit=1000', 200],
    ['after=0&limit=1', 200],
    ['after=99999999999999999999', 400],
  ])('pages the audit log with %s: %i', async (query, status) => {
    const s = await secured();
    await s.call('POST', '/admin/flags/checkout/kill', 'release');
    const answer = await s.call('GET', `/admin/audit?${query}`, 'reader');
    expect(answer.status, answer.text).toBe(status);
    if (status === 200) expect(answer.body).toMatchObject({ records: [{ seq: 1 }] });
  });

  it('refuses a body that is not JSON, or not an object, on every write', async () => {
    const s = await secured();
    const before = s.bytes();
    for (const [method, path, auth] of [
      ['POST', '/admin/flags/checkout/kill', 'release'],
      ['PUT', '/admin/freeze', 'oncall'],
      ['POST', '/admin/alerts', 'alertmanager'],
      ['PATCH', '/admin/flags', 'oncall'],
    ] as const)
      for (const body of [
        '{',
        '[]',
        '"x"',
        'null',
        ...(method === 'PATCH' ? [] : ['{"reason": 5}']),
      ]) {
        const answer = await s.call(method, path, auth, body);
        expect(answer.status, `${path} ${body}`).toBeGreaterThanOrEqual(400);
        expect(answer.status, `${path} ${body}`).toBeLessThan(500);
      }
    for (const body of ['null', '[]', '"x"', '5', '{"flags":[null]}', '{"flags":[5]}']) {
      const answer = await s.call('PUT', '/admin/flags', 'oncall', body);
      expect(answer.status, `PUT ${body}`).toBe(400);
    }
    expect(s.bytes()).toEqual(before);
  });
});

describe('an audit log that cannot be written', () => {
  const broken = async (): Promise<Secured> => {
    const { unwritableAuditPath } = await import('../support/management-api.js');
    const { AuditLog } = await import('../../src/rollout/audit.js');
    return secured({ audit: new AuditLog(unwritableAuditPath(), { sync: false }) });
  };

  it('still kills, and says the kill was not audited', async () => {
    const s = await broken();
    const killed = await s.call('POST', '/admin/flags/checkout/kill', 'release', {
      reason: 'INC-3',
    });
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({
      changed: true,
      status: 'killed',
      unaudited: expect.stringMatching(/audit/),
    });
    expect(s.stored()['checkout']).toMatchObject({
      defaultVariant: 'off',
      metadata: { 'rollout.status': 'killed' },
    });
  });

  it('still rolls back on an alert, and says so', async () => {
    const s = await broken();
    const fired = await s.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(fired.status).toBe(200);
    expect(fired.body.actions[0]).toMatchObject({
      action: 'rollback',
      changed: true,
      unaudited: expect.any(String),
    });
    expect(s.stored()['checkout']?.['metadata']['rollout.status']).toBe('rolled-back');
  });

  it('refuses an admin edit, a traffic change and a freeze with 503, changing nothing', async () => {
    const s = await broken();
    const before = s.bytes();
    const edit = await s.call('PATCH', '/admin/flags', 'oncall', {
      flags: { banner: { defaultVariant: 'b' } },
    });
    expect(edit.status).toBe(503);
    expect(edit.body.error).toMatch(/audit log/);
    expect((await s.call('PATCH', '/admin/flags', 'release', TRAFFIC_PATCH)).status).toBe(503);
    expect((await s.call('PUT', '/admin/freeze', 'oncall', { reason: 'INC-4' })).status).toBe(503);
    expect((await s.call('POST', '/admin/flags/checkout/pause', 'release')).status).toBe(503);
    expect((await s.call('GET', '/admin/audit', 'reader')).status).toBe(500);
    expect(s.bytes()).toEqual(before);
    // and the advance a freeze would stop is not let through by a failed freeze
    expect((await s.call('PATCH', '/admin/flags', 'release', ADVANCE)).status).toBe(503);
  });
});

describe('a loopback server without tokens', () => {
  it('refuses a web page from another origin (a cross-site POST needs no preflight), changing nothing', async () => {
    const s = await secured({ tokens: [] });
    const before = s.bytes();
    for (const origin of ['http://evil.example', 'null', 'https://127.0.0.1.evil.example'])
      for (const [method, path, body] of [
        ['POST', '/admin/flags/checkout/kill', 'text/plain body'],
        ['POST', '/admin/flags/checkout/pause', undefined],
        ['PUT', '/admin/freeze', { reason: 'csrf' }],
        ['GET', '/admin/flags', undefined],
      ] as const) {
        const answer = await s.call(method, path, undefined, body, {
          Origin: origin,
          'Content-Type': 'text/plain',
        });
        expect(answer.status, `${origin} ${method} ${path}`).toBe(403);
      }
    expect(s.bytes()).toEqual(before);
    const tool = await s.call('POST', '/admin/flags/checkout/pause', undefined);
    expect(tool.status).toBe(200);
    const page = await s.call('POST', '/admin/flags/checkout/resume', undefined, undefined, {
      Origin: 'http://localhost:3000',
    });
    expect(page.status).toBe(200);
    expect(s.records().map((r) => [r.actor, r.action])).toEqual([
      ['local', 'pause'],
      ['local', 'resume'],
    ]);
  });
});

describe('the kill switch', () => {
  it('works on a flag whose rollout metadata a rollout token broke', async () => {
    const s = await secured();
    for (const broken of [{ 'rollout.percent': 'lots' }, { 'rollout.status': 'bogus' }]) {
      const edit = await s.call('PATCH', '/admin/flags', 'release', {
        flags: { checkout: { metadata: broken } },
      });
      expect(edit.status).toBe(200);
      const killed = await s.call('POST', '/admin/flags/checkout/kill', 'release');
      expect(killed.status, killed.text).toBe(200);
      expect(killed.body).toMatchObject({ changed: true, status: 'killed', safeVariant: 'off' });
      expect(s.stored()['checkout']).toMatchObject({
        defaultVariant: 'off',
        metadata: {
          'rollout.status': 'killed',
          'rollout.percent': 0,
          'rollout.safeVariant': 'off',
        },
      });
      expect(s.stored()['checkout']?.['targeting']).toBeUndefined();
      // put the rollout back for the next round
      await s.call('PATCH', '/admin/flags', 'oncall', { flags: { checkout: FLAGS.checkout } });
    }
    await s.call('PATCH', '/admin/flags', 'release', {
      flags: { checkout: { metadata: { 'rollout.step': -1 } } },
    });
    const fired = await s.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(fired.status).toBe(200);
    expect(fired.body.actions[0]).toMatchObject({ action: 'kill', changed: true });
  });
});

describe("the server's log", () => {
  it('keeps what callers send on one line: a reason, an alert summary or a flag label cannot forge a log line', async () => {
    const lines: string[] = [];
    const record = (line: string) => lines.push(line);
    const s = await secured({
      logger: { error: record, warn: record, info: record, debug: record },
    });
    const forged = '\nflag server: oncall: unfreeze: all clear';
    await s.call('POST', '/admin/flags/banner/kill', 'release', {
      reason: `INC-1${forged}`,
      safeVariant: 'b',
    });
    await s.call('PUT', '/admin/freeze', 'oncall', { reason: `INC-2\r${forged}` });
    const summary = alert({ flag_key: 'checkout' });
    await s.call(
      'POST',
      '/admin/alerts',
      'alertmanager',
      webhook(
        { ...summary, annotations: { summary: `errors${forged}` } },
        alert({ flag_key: `nope${forged}` }, { fingerprint: 'f2' }),
      ),
    );
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
  });
});
