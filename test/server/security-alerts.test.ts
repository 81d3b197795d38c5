import { describe, expect, it } from 'vitest';
import {
  CHECKOUT_ALERT,
  FLAGS,
  TOKENS,
  alert,
  freshFiles,
  secured,
  webhook,
  type Loose,
} from '../support/management-api.js';

const changes = (records: readonly { changed: boolean }[]) => records.filter((r) => r.changed);

describe('a forged webhook', () => {
  it('is refused without the alerts credential (401) and with the admin token (403), changing nothing', async () => {
    const s = await secured();
    const before = s.bytes();
    const none = await s.call('POST', '/admin/alerts', undefined, CHECKOUT_ALERT);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await s.call('POST', '/admin/alerts', 'oncall', CHECKOUT_ALERT)).status).toBe(403);
    expect((await s.call('POST', '/admin/alerts', 'release', CHECKOUT_ALERT)).status).toBe(403);
    expect(
      (
        await s.call(
          'POST',
          '/admin/alerts',
          { header: `Bearer ${TOKENS.alertmanager}x` },
          CHECKOUT_ALERT,
        )
      ).status,
    ).toBe(401);
    expect(s.bytes()).toEqual(before);
  });

  it('is refused on a server with no tokens, even from loopback', async () => {
    const s = await secured({ tokens: [] });
    const before = s.bytes();
    expect((await s.call('POST', '/admin/alerts', undefined, CHECKOUT_ALERT)).status).toBe(401);
    expect(s.bytes()).toEqual(before);
  });

  it('is accepted with the alerts token in any letter case of the scheme', async () => {
    const s = await secured();
    const answer = await s.call(
      'POST',
      '/admin/alerts',
      { header: `bearer ${TOKENS.alertmanager}` },
      CHECKOUT_ALERT,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.actions).toMatchObject([{ action: 'rollback', changed: true }]);
    expect(s.records()).toMatchObject([{ actor: 'alertmanager', action: 'rollback' }]);
  });
});

describe('replayed and duplicated alerts', () => {
  it('acts on the same payload once: the second is a duplicate and writes nothing', async () => {
    const s = await secured();
    const first = await s.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(first.body.actions).toMatchObject([{ action: 'rollback', changed: true }]);
    const after = s.bytes();
    const second = await s.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(second.status).toBe(200);
    expect(second.body.actions).toMatchObject([
      { action: 'none', changed: false, duplicate: true },
    ]);
    expect(s.bytes()).toEqual(after);
  });

  it('handles a grouped payload: two flags, a duplicate and a resolved alert', async () => {
    const s = await secured();
    const grouped = webhook(
      alert({ flag_key: 'checkout' }, { fingerprint: 'c1' }),
      alert({ flag_key: 'search' }, { fingerprint: 's1' }),
      alert({ flag_key: 'checkout' }, { fingerprint: 'c1' }),
      alert({ flag_key: 'banner' }, { fingerprint: 'b1', status: 'resolved' }),
    );
    const answer = await s.call('POST', '/admin/alerts', 'alertmanager', grouped);
    expect(answer.status).toBe(200);
    expect(answer.body.actions).toMatchObject([
      { fingerprint: 'c1', flag: 'checkout', action: 'rollback', changed: true },
      { fingerprint: 's1', flag: 'search', action: 'rollback', changed: true },
      { fingerprint: 'c1', flag: 'checkout', action: 'none', changed: false, duplicate: true },
      { fingerprint: 'b1', flag: 'banner', action: 'none', changed: false },
    ]);
    expect(s.stored()['checkout']?.['metadata']['rollout.status']).toBe('rolled-back');
    expect(s.stored()['search']?.['metadata']['rollout.status']).toBe('rolled-back');
    expect(s.stored()['banner']).toEqual(FLAGS.banner); // resolved re-enables and changes nothing
    expect(s.records().map((r) => [r.flag, r.action, r.changed])).toEqual([
      ['checkout', 'rollback', true],
      ['search', 'rollback', true],
    ]);
  });

  it("changes nothing when Alertmanager repeats an alert after a restart: the flag is at its safe variant already (a 'no change' record)", async () => {
    const files = freshFiles();
    const first = await secured({}, files);
    const fired = await first.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(fired.body.actions).toMatchObject([{ action: 'rollback', changed: true }]);
    await first.stop();
    const second = await secured({}, files); // forgets what it handled: only the file remembers
    const file = second.bytes().file;
    const repeat = await second.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(repeat.status).toBe(200);
    expect(repeat.body.actions).toHaveLength(1);
    expect(repeat.body.actions[0]).toMatchObject({ flag: 'checkout', changed: false });
    expect(repeat.body.actions[0].duplicate).toBeUndefined();
    expect(second.bytes().file).toBe(file);
    expect(second.stored()['checkout']?.['metadata']['rollout.status']).toBe('rolled-back');
    const records = second.records();
    expect(changes(records)).toHaveLength(1);
    expect(records.map((r) => [r.actor, r.flag, r.changed, r.reason])).toEqual([
      ['alertmanager', 'checkout', true, expect.stringContaining('CheckoutErrors')],
      ['alertmanager', 'checkout', false, expect.stringMatching(/no change$/)],
    ]);
  });

  it('changes nothing when an alert names a flag someone killed by hand', async () => {
    const s = await secured();
    expect((await s.call('POST', '/admin/flags/checkout/kill', 'release')).status).toBe(200);
    const killed = s.bytes().file;
    const answer = await s.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    expect(answer.body.actions[0]).toMatchObject({ changed: false });
    expect(s.bytes().file).toBe(killed);
    expect(s.stored()['checkout']?.['metadata']['rollout.status']).toBe('killed');
  });

  it('acts once on 10 identical webhooks at the same time: one change, the rest duplicates', async () => {
    const s = await secured();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        s.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const actions = answers.flatMap((a) => a.body.actions as Loose[]);
    expect(actions.filter((a) => a.changed)).toHaveLength(1);
    expect(actions.filter((a) => a.duplicate === true)).toHaveLength(9);
    expect(s.records()).toHaveLength(1);
    expect(s.records()[0]).toMatchObject({ action: 'rollback', changed: true });
  });

  it('changes a flag once when 10 different alerts name it at the same time', async () => {
    const s = await secured();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        s.call(
          'POST',
          '/admin/alerts',
          'alertmanager',
          webhook(alert({ flag_key: 'checkout' }, { fingerprint: `f${i}` })),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.filter((a) => a.body.actions[0].changed)).toHaveLength(1);
    expect(changes(s.records())).toHaveLength(1);
    expect(s.stored()['checkout']?.['metadata']['rollout.status']).toBe('rolled-back');
  });

  it('acts again on an alert that fires anew (a new start), without a second change', async () => {
    const s = await secured();
    await s.call('POST', '/admin/alerts', 'alertmanager', CHECKOUT_ALERT);
    const anew = webhook(alert({ flag_key: 'checkout' }, { startsAt: '2026-11-29T11:00:00Z' }));
    const answer = await s.call('POST', '/admin/alerts', 'alertmanager', anew);
    expect(answer.body.actions[0]).toMatchObject({ changed: false });
    expect(answer.body.actions[0].duplicate).toBeUndefined();
    expect(changes(s.records())).toHaveLength(1);
  });

  it('acts on a retry of an alert that failed (an unknown flag is not remembered as handled)', async () => {
    const s = await secured();
    const unknown = webhook(alert({ flag_key: 'nope' }));
    const first = await s.call('POST', '/admin/alerts', 'alertmanager', unknown);
    expect(first.body.actions[0]).toMatchObject({ changed: false, error: expect.any(String) });
    const again = await s.call('POST', '/admin/alerts', 'alertmanager', unknown);
    expect(again.body.actions[0].duplicate).toBeUndefined();
  });
});
