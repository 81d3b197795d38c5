import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord } from '../../src/rollout/audit.js';
import { RolloutController } from '../../src/rollout/controller.js';
import { parsePlan } from '../../src/rollout/plan.js';
import { functionReader, type EvidenceQuery } from '../../src/rollout/readers.js';
import { adminWriter } from '../../src/rollout/writers.js';
import { ADVANCE, TOKENS, freshFiles, secured, type Secured } from '../support/management-api.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-races-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seqOf = (records: readonly AuditRecord[], match: (r: AuditRecord) => boolean) =>
  records.find((r) => r.changed && match(r))?.seq;

const frozen = (s: Secured) => s.metadata()?.['rollout.frozen'] === true;

describe('a freeze racing an advance', () => {
  it('never lets an advance the freeze was recorded before through: 423 or 412, 20 rounds', async () => {
    const seen = { advancedFirst: 0, frozeFirst: 0 };
    for (let round = 0; round < 20; round++) {
      const s = await secured();
      // half the rounds advance from a configuration read before the race, with If-Match
      const etag =
        round % 2 === 0
          ? undefined
          : ((await s.call('GET', '/admin/flags', 'reader')).headers.get('etag') ?? undefined);
      const freeze = () => s.call('PUT', '/admin/freeze', 'oncall', { reason: `INC-${round}` });
      const advance = () =>
        s.call('PATCH', '/admin/flags', 'release', ADVANCE, etag ? { 'If-Match': etag } : {});
      // alternate which request starts first
      const [froze, advanced] =
        round % 4 < 2
          ? await Promise.all([freeze(), advance()])
          : await Promise.all([advance(), freeze()]).then(([a, f]) => [f, a] as const);
      expect(froze.status).toBe(200);
      expect([200, 412, 423]).toContain(advanced.status);
      const records = s.records();
      const freezeAt = seqOf(records, (r) => r.action === 'freeze') as number;
      const advanceAt = seqOf(records, (r) => r.action === 'edit' && r.flag === 'checkout');
      const step = s.stored()['checkout']?.['metadata']['rollout.step'];
      expect(frozen(s)).toBe(true);
      if (advanced.status === 200) {
        // the advance went first: recorded and stored before the freeze
        expect(advanceAt).toBeLessThan(freezeAt);
        expect(step).toBe(2);
        seen.advancedFirst++;
      } else {
        expect(advanceAt).toBeUndefined();
        expect(step).toBe(1);
        if (advanced.status === 423) expect(advanced.body.error).toMatch(/frozen by oncall/);
        seen.frozeFirst++;
      }
      await s.stop();
    }
    // which one starts first wins: both orders are raced
    expect(seen.advancedFirst).toBeGreaterThan(0);
    expect(seen.frozeFirst).toBeGreaterThan(0);
    expect(seen.advancedFirst + seen.frozeFirst).toBe(20);
  });

  it('refuses every advance once the freeze is recorded, and lets it through after the unfreeze', async () => {
    const s = await secured();
    await s.call('PUT', '/admin/freeze', 'oncall', { reason: 'INC-1' });
    const before = s.bytes();
    const tries = await Promise.all(
      Array.from({ length: 10 }, () => s.call('PATCH', '/admin/flags', 'release', ADVANCE)),
    );
    expect(tries.map((t) => t.status)).toEqual(Array(10).fill(423));
    // an admin token is held to the freeze as well, and a PUT that drops the freeze while advancing
    const doc = JSON.parse(before.file) as { flags: Record<string, Record<string, unknown>> };
    const checkout = doc.flags['checkout'] as Record<string, unknown>;
    const thawedAndAdvanced = JSON.stringify({
      flags: {
        ...doc.flags,
        checkout: {
          ...checkout,
          metadata: {
            ...(checkout['metadata'] as object),
            'rollout.step': 2,
            'rollout.percent': 25,
          },
        },
      },
    });
    expect((await s.call('PATCH', '/admin/flags', 'oncall', ADVANCE)).status).toBe(423);
    expect((await s.call('PUT', '/admin/flags', 'oncall', thawedAndAdvanced)).status).toBe(423);
    expect(s.bytes()).toEqual(before);
    await s.call('DELETE', '/admin/freeze', 'oncall');
    expect((await s.call('PATCH', '/admin/flags', 'release', ADVANCE)).status).toBe(200);
  });
});

describe('concurrent writes of the same change', () => {
  it('records one freeze for 10 at the same time, and one kill for 10 kills', async () => {
    const s = await secured();
    const freezes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        s.call('PUT', '/admin/freeze', 'oncall', { reason: `INC-${i}` }),
      ),
    );
    expect(freezes.map((f) => f.status)).toEqual(Array(10).fill(200));
    expect(freezes.filter((f) => f.body.changed)).toHaveLength(1);
    const kills = await Promise.all(
      Array.from({ length: 10 }, () => s.call('POST', '/admin/flags/checkout/kill', 'release')),
    );
    expect(kills.map((k) => k.status)).toEqual(Array(10).fill(200));
    expect(kills.filter((k) => k.body.changed)).toHaveLength(1);
    const records = s.records();
    expect(records.filter((r) => r.changed).map((r) => r.action)).toEqual(['freeze', 'kill']);
    expect(records.filter((r) => !r.changed)).toHaveLength(9); // each repeated kill: "no change"
  });
});

const MINUTE = 60_000;
const plan = parsePlan({
  flag: 'checkout',
  treatment: 'on',
  control: 'off',
  steps: [10, 50, 100],
  hold: '10m',
  minSamples: 100,
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.002, maxRate: 0.05 }],
});
/** Healthy traffic in proportion to the window: every step may advance. */
const healthy = functionReader((q: EvidenceQuery) => {
  const n = Math.round(((q.to - q.from) / MINUTE) * 100);
  const counts = { errors: { bad: Math.round(n * 0.001), total: n } };
  return { treatment: counts, control: counts, ring: counts };
});
let logs = 0;

/** A rollout of checkout driven through the server's admin API with a rollout token, at step 0. */
async function driven() {
  const s = await secured(
    {},
    freshFiles({
      checkout: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
    }),
  );
  let now = Date.parse('2026-11-29T10:00:00Z');
  const writer = adminWriter(`http://127.0.0.1:${s.managementPort}`, { token: TOKENS.release });
  const controller = new RolloutController({
    plan,
    writer,
    reader: healthy,
    audit: new AuditLog(join(dir, `controller-${logs++}.jsonl`), { sync: false }),
    actor: 'release',
    clock: { now: () => now },
  });
  expect(await controller.start()).toMatchObject({ action: 'start', changed: true });
  now += 11 * MINUTE;
  const freeze = () => s.call('PUT', '/admin/freeze', 'oncall', { reason: 'INC-9' });
  const step = () => s.stored()['checkout']?.['metadata']['rollout.step'] as number;
  return { s, writer, controller, freeze, step };
}

describe('the rollout controller driving the server while a freeze lands', () => {
  it('holds when the freeze lands between its read and its write (its write loses on If-Match)', async () => {
    const { s, writer, controller, freeze, step } = await driven();
    const write = writer.write.bind(writer);
    let raced = 0;
    writer.write = async (configuration, version) => {
      if (raced++ === 0) expect((await freeze()).status).toBe(200);
      return write(configuration, version);
    };
    const outcome = await controller.step();
    expect(outcome).toMatchObject({ action: 'hold', changed: false });
    expect(outcome.reason).toMatch(/frozen by oncall .*INC-9/);
    expect(step()).toBe(0);
    expect(frozen(s)).toBe(true);
    expect(s.records().filter((r) => r.actor === 'release' && r.changed)).toHaveLength(1); // the start
  });

  it('holds on every step while frozen, and advances after the unfreeze', async () => {
    const { s, controller, freeze, step } = await driven();
    await freeze();
    for (let i = 0; i < 3; i++)
      expect(await controller.step()).toMatchObject({ action: 'hold', changed: false });
    expect(step()).toBe(0);
    await s.call('DELETE', '/admin/freeze', 'oncall');
    expect(await controller.step()).toMatchObject({ action: 'advance', changed: true });
    expect(step()).toBe(1);
  });

  it('never advances after a freeze it raced was recorded: 10 rounds', async () => {
    const seen = { advanced: 0, held: 0 };
    for (let round = 0; round < 10; round++) {
      const { s, controller, freeze, step } = await driven();
      // the freeze starts later each round, so it lands before, during and after the step
      const late = async () => {
        await sleep(round);
        return freeze();
      };
      const [outcome] = await Promise.all([controller.step(), late()]);
      seen[outcome.action === 'advance' ? 'advanced' : 'held']++;
      const records = s.records();
      const freezeAt = seqOf(records, (r) => r.action === 'freeze') as number;
      const advanceAt = seqOf(
        records,
        (r) => r.actor === 'release' && r.flag === 'checkout' && r.seq > 1,
      );
      expect(frozen(s)).toBe(true);
      if (outcome.action === 'advance') {
        expect(advanceAt).toBeLessThan(freezeAt);
        expect(step()).toBe(1);
      } else {
        expect(outcome).toMatchObject({ action: 'hold', changed: false });
        expect(advanceAt).toBeUndefined();
        expect(step()).toBe(0);
      }
      await s.stop();
    }
    expect(seen.advanced + seen.held).toBe(10);
  });
});
