import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  ADVANCE,
  alert,
  BANNER,
  CHECKOUT_ALERT,
  freshFiles,
  rolling,
  secured,
  TOKENS,
  webhook,
} from '../support/management-api.js';
import { clientFor, until } from '../support/provider-events.js';
import { inProcessProvider } from '../support/sync-flags.js';

const serve = () => secured({}, freshFiles({ checkout: rolling(), banner: BANNER }));

describe('the kill switch through the server', () => {
  it("serves the safe variant to connected providers, audits it under the token's name, and is idempotent", async () => {
    const { syncPort, call, stored, records } = await serve();
    const { client, events } = await clientFor(inProcessProvider(syncPort));
    const killed = await call('POST', '/admin/flags/checkout/kill', 'release', { reason: 'INC-1' });
    expect(killed.status).toBe(200);
    expect(killed.body).toMatchObject({
      flag: 'checkout',
      action: 'kill',
      changed: true,
      status: 'killed',
      safeVariant: 'off',
      delivery: { streams: 1 },
    });
    expect(stored()['checkout']).toMatchObject({ defaultVariant: 'off' });
    expect(stored()['checkout']?.['targeting']).toBeUndefined();
    await until(() => events.length > 0, 'a change event');
    expect(await client.getBooleanDetails('checkout', true, { targetingKey: 'u1' })).toMatchObject({
      value: false,
      reason: 'STATIC',
    });
    const again = await call('POST', '/admin/flags/checkout/kill', 'release', {});
    expect(again.body).toMatchObject({ changed: false });
    const log = await records();
    expect(log.map((r) => [r.actor, r.action, r.flag, r.changed])).toEqual([
      ['release', 'kill', 'checkout', true],
      ['release', 'kill', 'checkout', false],
    ]);
    expect(log[0]).toMatchObject({ reason: 'INC-1', rolloutId: 'r-running' });
    expect((log[0]?.before as Record<string, unknown>)['targeting']).toBeDefined();
  });

  it('refuses a kill without a known safe variant, naming how to give one', async () => {
    const { call, stored } = await serve();
    const refused = await call('POST', '/admin/flags/banner/kill', 'release');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: expect.stringMatching(/rollout\.safeVariant/) });
    const given = await call('POST', '/admin/flags/banner/kill', 'release', { safeVariant: 'b' });
    expect(given.status).toBe(200);
    expect(stored()['banner']).toMatchObject({
      defaultVariant: 'b',
      metadata: { 'rollout.status': 'killed', 'rollout.safeVariant': 'b' },
    });
    // once recorded, only an admin names another safe variant: a "kill" to the treatment would
    // serve it to everyone past every guardrail
    const renamed = await call('POST', '/admin/flags/banner/kill', 'release', { safeVariant: 'a' });
    expect(renamed.status).toBe(403);
    expect(renamed.body).toMatchObject({ error: expect.stringMatching(/safe variant is "b"/) });
    expect(
      (await call('POST', '/admin/flags/banner/kill', 'oncall', { safeVariant: 'z' })).status,
    ).toBe(409);
    expect(
      (await call('POST', '/admin/flags/banner/kill', 'oncall', { safeVariant: 'a' })).body,
    ).toMatchObject({ changed: true, safeVariant: 'a' });
    expect((await call('POST', '/admin/flags/nope/kill', 'release')).status).toBe(404);
  });
});

describe('the alert webhook', () => {
  it('rolls back the rollout an alert names, once, and records the alert', async () => {
    const { call, stored, records } = await serve();
    const first = await call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      actions: [
        { flag: 'checkout', action: 'rollback', changed: true, alertname: 'CheckoutErrors' },
      ],
    });
    expect(stored()['checkout']).toMatchObject({
      defaultVariant: 'off',
      metadata: { 'rollout.status': 'rolled-back', 'rollout.percent': 0 },
    });
    const replay = await call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(replay.body).toMatchObject({ actions: [{ duplicate: true, changed: false }] });
    const resolved = await call(
      'POST',
      '/admin/alerts',
      'alertmanager',
      webhook(alert({ flag_key: 'checkout' }, { status: 'resolved' })),
    );
    expect(resolved.body).toMatchObject({ actions: [{ action: 'none', changed: false }] });
    expect(stored()['checkout']).toMatchObject({ metadata: { 'rollout.status': 'rolled-back' } });
    const log = await records();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      actor: 'alertmanager',
      action: 'rollback',
      flag: 'checkout',
      evidence: { alert: { fingerprint: 'f1', labels: { alertname: 'CheckoutErrors' } } },
    });
  });

  it('changes nothing when the alert fires again later, or a kill follows the rollback', async () => {
    const { call, records } = await serve();
    await call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    const refired = webhook(alert({ flag_key: 'checkout' }, { startsAt: '2026-11-29T11:00:00Z' }));
    const again = await call('POST', '/admin/alerts', 'alertmanager', refired);
    expect(again.body).toMatchObject({ actions: [{ action: 'kill', changed: false }] });
    expect((await call('POST', '/admin/flags/checkout/kill', 'release')).body).toMatchObject({
      changed: false,
      status: 'rolled-back',
    });
    expect((await records()).map((r) => r.changed)).toEqual([true, false, false]);
  });

  it('refuses a forged webhook without the alerts credential, changing nothing', async () => {
    const { call, stored } = await serve();
    expect((await call('POST', '/admin/alerts', undefined, CHECKOUT_ALERT)).status).toBe(401);
    expect((await call('POST', '/admin/alerts', 'oncall', CHECKOUT_ALERT)).status).toBe(403);
    expect(stored()['checkout']).toMatchObject({ metadata: { 'rollout.status': 'running' } });
  });

  it('names what is wrong in a malformed payload', async () => {
    const { call } = await serve();
    const bad = await call('POST', '/admin/alerts', 'alertmanager', {
      ...webhook(),
      alerts: [{ status: 'on' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: expect.stringContaining('$.alerts[0].status') });
  });

  it('freezes on an alert with the freeze label; a resolved alert does not unfreeze', async () => {
    const { call } = await serve();
    await call(
      'POST',
      '/admin/alerts',
      'alertmanager',
      webhook(alert({ rampflag_freeze: 'yes' }, { status: 'firing', fingerprint: 'f9' })),
    );
    expect((await call('GET', '/admin/freeze', 'reader')).body).toMatchObject({
      frozen: true,
      by: 'alertmanager',
    });
    await call(
      'POST',
      '/admin/alerts',
      'alertmanager',
      webhook(alert({ rampflag_freeze: 'yes' }, { status: 'resolved', fingerprint: 'f9' })),
    );
    expect((await call('GET', '/admin/freeze', 'reader')).body).toMatchObject({ frozen: true });
  });
});

describe('the incident freeze', () => {
  it('refuses a write that advances a rollout while frozen, lets a rollback through, and ends on unfreeze', async () => {
    const { call, stored, records } = await serve();
    expect((await call('PUT', '/admin/freeze', 'release', { reason: 'INC-2' })).status).toBe(403);
    const frozen = await call('PUT', '/admin/freeze', 'oncall', { reason: 'INC-2', for: '2h' });
    expect(frozen.body).toMatchObject({
      changed: true,
      frozen: true,
      reason: 'INC-2',
      by: 'oncall',
    });
    const refused = await call('PATCH', '/admin/flags', 'release', ADVANCE);
    expect(refused.status).toBe(423);
    expect(refused.body).toMatchObject({
      error: expect.stringMatching(/frozen by oncall .*INC-2/),
    });
    const sideways = await call('PATCH', '/admin/flags', 'release', {
      flags: {
        checkout: {
          targeting: {
            fractional: [
              ['on', 900],
              ['off', 100],
            ],
          },
        },
      },
    });
    expect(sideways.status).toBe(423);
    expect(sideways.body).toMatchObject({
      error: expect.stringMatching(/may only kill, roll back/),
    });
    expect((await call('POST', '/admin/flags/checkout/rollback', 'release')).status).toBe(200);
    const thawed = await call('DELETE', '/admin/freeze', 'oncall', { reason: 'INC-2 over' });
    expect(thawed.body).toMatchObject({ changed: true, frozen: false });
    expect(stored()['checkout']).toMatchObject({ metadata: { 'rollout.status': 'rolled-back' } });
    expect((await records()).map((r) => r.action)).toEqual(['freeze', 'rollback', 'unfreeze']);
  });
});

describe('roles on the admin API', () => {
  it('lets a rollout token move traffic but not redefine flags', async () => {
    const { call } = await serve();
    const traffic = await call('PATCH', '/admin/flags', 'release', {
      flags: {
        checkout: {
          targeting: {
            fractional: [
              ['on', 200],
              ['off', 800],
            ],
          },
        },
      },
    });
    expect(traffic.status).toBe(200);
    const redefine = await call('PATCH', '/admin/flags', 'release', {
      flags: { checkout: { variants: { on: true, off: false, maybe: true } } },
    });
    expect(redefine.status).toBe(403);
    expect(redefine.body).toMatchObject({ error: expect.stringContaining('"variants"') });
    expect(
      (await call('PATCH', '/admin/flags', 'oncall', { flags: { extra: BANNER } })).status,
    ).toBe(200);
    expect((await call('PATCH', '/admin/flags', 'reader', { flags: { extra: null } })).status).toBe(
      403,
    );
    expect((await call('GET', '/admin/flags', 'reader')).status).toBe(200);
    expect((await call('GET', '/admin/flags', undefined)).status).toBe(401);
  });

  it('refuses a token in the query string', async () => {
    const { call } = await serve();
    const leaked = await call('GET', `/admin/flags?access_token=${TOKENS.oncall}`, undefined);
    expect(leaked.status).toBe(400);
    expect(leaked.body).toMatchObject({ error: expect.stringContaining('Authorization') });
  });
});

describe('the audit trail', () => {
  it('records admin edits with before and after, file edits as actor "file", and pages through them', async () => {
    const { call, file, records } = await serve();
    await call('PATCH', '/admin/flags', 'oncall', { flags: { banner: { defaultVariant: 'b' } } });
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      flags: Record<string, Record<string, unknown>>;
    };
    (doc.flags['banner'] as Record<string, unknown>)['defaultVariant'] = 'a';
    writeFileSync(file, JSON.stringify(doc, null, 2));
    for (let i = 0; i < 100 && (await records()).length < 2; i++) await sleep(50);
    const log = await records();
    expect(log.map((r) => [r.actor, r.action, r.flag])).toEqual([
      ['oncall', 'edit', 'banner'],
      ['file', 'edit', 'banner'],
    ]);
    expect(log[1]).toMatchObject({
      before: { defaultVariant: 'b' },
      after: { defaultVariant: 'a' },
    });
    const page = await call('GET', '/admin/audit?limit=1', 'reader');
    expect(page.body).toMatchObject({ records: [{ seq: 1, actor: 'oncall' }], next: 1, total: 2 });
    const rest = await call('GET', '/admin/audit?after=1', 'reader');
    expect(rest.body).toMatchObject({ records: [{ seq: 2, actor: 'file' }], next: null });
    expect((await call('GET', '/admin/audit', 'alertmanager')).status).toBe(403);
  });
});
