import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvaluator } from 'rampflag/evaluator';
import { InMemoryFlagSource } from 'rampflag';
import { AuditLog } from '../../src/rollout/audit.js';
import { RolloutController } from '../../src/rollout/controller.js';
import { withFreeze } from '../../src/rollout/freeze.js';
import { parsePlan } from '../../src/rollout/plan.js';
import {
  functionReader,
  type EvidenceQuery,
  type WindowEvidence,
} from '../../src/rollout/readers.js';
import { memoryWriter } from '../../src/rollout/writers.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-controller-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let logs = 0;

const MINUTE = 60_000;
const plan = parsePlan({
  flag: 'checkout',
  treatment: 'on',
  control: 'off',
  rings: { attribute: 'ring', stages: ['internal'] },
  steps: [10, 50, 100],
  hold: '10m',
  minSamples: 100,
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.002, maxRate: 0.05 }],
});

/**
 * Traffic in proportion to the window's length, `rate` errors per request per cohort; bucketed
 * treatment users only once the flag gives them a share (not during a ring stage).
 */
function traffic(
  rates: { treatment: number; control: number; ring: number },
  percent: () => Promise<number>,
) {
  return functionReader(async (q: EvidenceQuery): Promise<WindowEvidence> => {
    const minutes = (q.to - q.from) / MINUTE;
    const n = Math.round(minutes * 100);
    const counts = (rate: number, total: number) => ({
      errors: { bad: Math.round(total * rate), total },
    });
    const share = (await percent()) > 0 ? n : 0;
    return {
      treatment: counts(rates.treatment, share),
      control: counts(rates.control, n),
      ring: counts(rates.ring, n),
    };
  });
}

function setUp(rates = { treatment: 0.001, control: 0.001, ring: 0.001 }) {
  const source = new InMemoryFlagSource({
    checkout: {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      metadata: { owner: 'payments' },
    },
    other: { variants: { a: 'A' }, defaultVariant: 'a' },
  });
  let now = Date.parse('2026-11-29T10:00:00Z');
  const clock = { now: () => now };
  const audit = new AuditLog(join(dir, `audit-${logs++}.jsonl`), { clock });
  let ids = 0;
  const percent = async () => {
    const flags = (
      JSON.parse(await source.read()) as {
        flags: Record<string, { metadata?: Record<string, unknown> }>;
      }
    ).flags;
    return Number(flags['checkout']?.metadata?.['rollout.percent'] ?? 0);
  };
  const controller = (reader = traffic(rates, percent)) =>
    new RolloutController({
      plan,
      writer: memoryWriter(source),
      reader,
      audit,
      actor: 'test',
      clock,
      newId: () => `r${++ids}`,
    });
  const flag = async () =>
    (JSON.parse(await source.read()) as { flags: Record<string, Record<string, unknown>> }).flags;
  return { source, clock, audit, controller, flag, advance: (ms: number) => (now += ms) };
}

const serves = (flags: object, context: object) => {
  const evaluator = createEvaluator();
  evaluator.setConfiguration({ flags });
  return evaluator.resolveBoolean('checkout', false, context);
};

describe('the rollout controller', () => {
  it('starts with the seed shape, ramps through rings and percentages, and completes', async () => {
    const { controller, flag, advance } = setUp();
    const c = controller();
    const started = await c.start();
    expect(started).toMatchObject({
      action: 'start',
      changed: true,
      rollout: { id: 'r1', status: 'running', step: 0, percent: 0 },
    });
    const seeded = await flag();
    expect(seeded['checkout']?.['targeting']).toEqual({
      if: [
        { in: [{ var: 'ring' }, ['internal']] },
        'on',
        {
          fractional: [
            ['on', 0],
            ['off', 1000],
          ],
        },
      ],
    });
    expect(seeded['checkout']?.['metadata']).toMatchObject({
      owner: 'payments',
      'rollout.status': 'running',
      'rollout.step': 0,
    });
    expect(serves(seeded, { targetingKey: 'u', ring: 'internal' }).value).toBe(true);
    expect(seeded['other']).toEqual({
      variants: { a: 'A' },
      defaultVariant: 'a',
      state: 'ENABLED',
    });
    const actions: string[] = [];
    for (let i = 0; i < 12; i++) {
      advance(5 * MINUTE);
      const outcome = await c.step();
      actions.push(outcome.action);
      if (outcome.rollout.status === 'completed') break;
    }
    expect(actions).toEqual([
      'hold',
      'advance',
      'hold',
      'advance',
      'hold',
      'advance',
      'hold',
      'complete',
    ]);
    const done = await flag();
    expect(done['checkout']?.['metadata']).toMatchObject({
      'rollout.status': 'completed',
      'rollout.percent': 100,
    });
    expect(serves(done, { targetingKey: 'anyone' }).value).toBe(true);
  });

  it('rolls back a regression to the safe variant by name, with the evidence in the audit log', async () => {
    const { controller, flag, advance, audit } = setUp({
      treatment: 0.05,
      control: 0.001,
      ring: 0.001,
    });
    const c = controller();
    await c.start();
    advance(10 * MINUTE);
    expect((await c.step()).action).toBe('advance'); // the ring stage: rings judged on their own
    advance(10 * MINUTE);
    const outcome = await c.step();
    expect(outcome).toMatchObject({
      action: 'rollback',
      changed: true,
      rollout: { status: 'rolled-back', percent: 0 },
    });
    expect(outcome.reason).toMatch(/errors: treatment − control/);
    const rolled = (await flag())['checkout'];
    expect(rolled?.['targeting']).toBeUndefined();
    expect(rolled?.['defaultVariant']).toBe('off');
    expect(serves({ checkout: rolled }, { targetingKey: 'u', ring: 'internal' }).value).toBe(false);
    const verified = await audit.verify(
      (rolled?.['metadata'] as Record<string, string>)['rollout.audit'],
    );
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(verified.records.map((r) => r.action)).toEqual(['start', 'advance', 'rollback']);
    const last = verified.records.at(-1);
    expect(last).toMatchObject({ actor: 'test', rolloutId: 'r1', changed: true });
    expect(JSON.stringify(last?.evidence)).toMatch(/"verdict":"harm"/);
    expect(last?.before).toMatchObject({ targeting: expect.anything() as unknown });
  });

  it('makes kill idempotent: one change, then "no change"', async () => {
    const { controller, flag, audit } = setUp();
    const c = controller();
    await c.start();
    expect(await c.kill('incident 42')).toMatchObject({
      action: 'kill',
      changed: true,
      rollout: { status: 'killed' },
    });
    const once = await flag();
    expect(await c.kill('incident 42')).toMatchObject({
      changed: false,
      reason: 'incident 42: no change',
    });
    expect(await flag()).toEqual(once);
    const verified = await audit.verify();
    expect(verified.ok && verified.records.map((r) => [r.action, r.changed])).toEqual([
      ['start', true],
      ['kill', true],
      ['kill', false],
    ]);
  });

  it('kills a flag with no rollout too', async () => {
    const { controller, flag } = setUp();
    const outcome = await controller().kill();
    expect(outcome).toMatchObject({ changed: true, rollout: { status: 'killed' } });
    expect((await flag())['checkout']?.['defaultVariant']).toBe('off');
  });

  it('pauses and resumes; a paused rollout holds', async () => {
    const { controller, advance } = setUp();
    const c = controller();
    await c.start();
    expect((await c.pause()).rollout.status).toBe('paused');
    advance(60 * MINUTE);
    expect(await c.step()).toMatchObject({ action: 'hold', reason: 'the rollout is paused' });
    expect((await c.resume()).rollout.status).toBe('running');
    // the hour paused does not count towards the 10-minute hold: the step starts again
    expect((await c.step()).reason).toMatch(/^waiting for 100 events per cohort/);
    advance(10 * MINUTE);
    expect((await c.step()).action).toBe('advance');
  });

  it('lets exactly one of two controllers act on a step; the other stops with a clear message', async () => {
    const { controller, advance } = setUp();
    const first = controller();
    await first.start();
    advance(10 * MINUTE);
    const second = controller();
    const results = await Promise.allSettled([first.step(), second.step()]);
    const won = results.filter((r) => r.status === 'fulfilled' && r.value.action === 'advance');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String((lost[0] as PromiseRejectedResult).reason)).toMatch(
      /moved by someone else.*this controller stops/,
    );
  });

  it('refuses to start a second rollout, or a plan the flag cannot carry', async () => {
    const { controller } = setUp();
    await controller().start();
    await expect(controller().start()).rejects.toThrow(/already has rollout r1 \(running\)/);
    const other = setUp();
    other.source.set('checkout', { variants: { yes: true, no: false }, defaultVariant: 'no' });
    const before = await other.source.read();
    await expect(other.controller().start()).rejects.toMatchObject({
      name: 'PlanError',
      issues: [
        { path: 'treatment', message: 'the flag has no variant "on" (it has yes, no)' },
        { path: 'control', message: 'the flag has no variant "off" (it has yes, no)' },
        { path: 'safeVariant', message: 'the flag has no variant "off" (it has yes, no)' },
      ],
    });
    expect(await other.source.read()).toBe(before);
  });

  it('resumes after a restart, counting the hold from rollout.since', async () => {
    const { controller, advance } = setUp();
    await controller().start();
    advance(6 * MINUTE);
    const restarted = controller();
    expect((await restarted.step()).reason).toMatch(/holding: 4m left/);
    advance(4 * MINUTE);
    expect((await restarted.step()).action).toBe('advance');
  });

  it('rolls back a paused rollout on harm', async () => {
    const { controller, advance } = setUp({ treatment: 0.05, control: 0.001, ring: 0.2 });
    const c = controller();
    await c.start();
    await c.pause('incident review');
    advance(5 * MINUTE);
    expect(await c.step()).toMatchObject({
      action: 'rollback',
      rollout: { status: 'rolled-back' },
    });
  });

  it('refuses to start a rollout that would take the treatment from users who have it', async () => {
    const { controller, source } = setUp();
    source.set('checkout', {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: {
        if: [
          { in: [{ var: 'ring' }, []] },
          'on',
          {
            fractional: [
              ['on', 30],
              ['off', 70],
            ],
          },
        ],
      },
    });
    await expect(controller().start()).rejects.toMatchObject({
      name: 'PlanError',
      issues: [
        {
          path: 'steps[0]',
          message: expect.stringMatching(/already gives "on" 30 %.*first step of 0 %/) as string,
        },
      ],
    });
  });

  it('goes through with the kill switch when the audit log cannot be written, and says so', async () => {
    const { controller, flag, audit } = setUp();
    const c = controller();
    await c.start();
    audit.append = () => Promise.reject(new Error('disk full'));
    await expect(c.pause()).rejects.toThrow(/disk full/); // nothing else goes ahead unaudited
    const killed = await c.kill('incident 7');
    expect(killed).toMatchObject({ changed: true, reason: 'incident 7 (not audited: disk full)' });
    expect((await flag())['checkout']?.['defaultVariant']).toBe('off');
  });

  it('still judges the current step when the audit log cannot be verified', async () => {
    const { controller, advance, audit } = setUp({ treatment: 0.05, control: 0.001, ring: 0.001 });
    const c = controller();
    await c.start();
    advance(10 * MINUTE);
    expect((await c.step()).action).toBe('advance');
    audit.verify = () => Promise.resolve({ ok: false, line: 1, problem: 'tampered' });
    advance(10 * MINUTE);
    expect((await c.step()).action).toBe('rollback');
  });

  it('ignores a step record whose write never happened when it cuts the evidence into windows', async () => {
    const { controller, advance, audit, source } = setUp();
    const first = controller();
    await first.start();
    advance(10 * MINUTE);
    const write = source.write.bind(source);
    let failOnce = true;
    source.write = (configuration, options) => {
      if (!failOnce) return write(configuration, options);
      failOnce = false;
      return Promise.reject(new Error('store unavailable'));
    };
    await expect(first.step()).rejects.toThrow(/store unavailable/);
    advance(MINUTE);
    const outcome = await first.step();
    expect(outcome.action).toBe('advance');
    const verified = await audit.verify();
    expect(verified.ok && verified.records.map((r) => [r.action, r.changed])).toEqual([
      ['start', true],
      ['advance', true],
      ['advance', false],
      ['advance', true],
    ]);
    advance(5 * MINUTE);
    // the first step's window ends at the advance that happened, not at the one that did not
    const held = await first.step();
    expect(held.decision?.guardrails[0]?.samples.control).toBe(500);
  });

  it('retries a run through a passing outage of its metrics, and stops on a conflict', async () => {
    const { controller } = setUp();
    let calls = 0;
    const flaky = functionReader(() => {
      calls++;
      if (calls <= 2) throw new Error('Prometheus at http://prometheus:9090 cannot be reached');
      return { treatment: {}, control: {} };
    });
    const c = controller(flaky);
    await c.start();
    const errors: string[] = [];
    const steps: string[] = [];
    const last = await c.run({
      signal: AbortSignal.timeout(2000),
      sleep: () => Promise.resolve(),
      onError: (e) => errors.push(e.message),
      onStep: (o) => {
        steps.push(o.action);
        if (steps.length === 2) void c.kill('stop the test');
      },
    });
    expect(errors).toHaveLength(2);
    expect(last.rollout.status).toBe('killed');
  });

  it('refuses to drive a rollout with a plan other than the one it started with; kill works with any', async () => {
    const { source, audit, clock } = setUp();
    const started = new RolloutController({
      plan,
      writer: memoryWriter(source),
      reader: traffic({ treatment: 0, control: 0, ring: 0 }, async () => 0),
      audit,
      clock,
      newId: () => 'r1',
    });
    await started.start();
    const edited = parsePlan({
      ...JSON.parse(JSON.stringify({ flag: 'checkout', treatment: 'on', control: 'off' })),
      steps: [50, 100],
      rings: { attribute: 'ring', stages: ['internal'] },
    });
    const other = new RolloutController({
      plan: edited,
      writer: memoryWriter(source),
      reader: traffic({ treatment: 0, control: 0, ring: 0 }, async () => 0),
      audit,
      clock,
    });
    await expect(other.step()).rejects.toThrow(
      /rollout r1 was started with another plan \(fingerprint [0-9a-f]{12}, this one [0-9a-f]{12}\)/,
    );
    await expect(other.pause()).rejects.toThrow(/started with another plan/);
    expect((await other.kill('incident')).rollout.status).toBe('killed');
  });

  it('starts again after a rollback from the shape the flag had: its ring rule and bucketing key', async () => {
    const { controller, source, flag } = setUp();
    const shaped = {
      if: [
        { in: [{ var: 'ring' }, []] },
        'on',
        { fractional: [{ var: 'email' }, ['on', 0], ['off', 100]] },
      ],
    };
    source.set('checkout', {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: shaped,
    });
    const c = controller();
    await c.start();
    await c.rollback('bad release');
    expect((await flag())['checkout']?.['targeting']).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      await controller().start();
      expect((await flag())['checkout']?.['targeting']).toEqual({
        if: [
          { in: [{ var: 'ring' }, ['internal']] },
          'on',
          { fractional: [{ var: 'email' }, ['on', 0], ['off', 1000]] },
        ],
      });
      await controller().kill('again');
    }
  });

  describe('during an incident freeze', () => {
    const freeze = async (source: InMemoryFlagSource, until?: number) => {
      const doc = JSON.parse(await source.read()) as Record<string, unknown>;
      const since = Date.parse('2026-11-29T09:00:00Z');
      const frozen = withFreeze(doc, {
        reason: 'INC-7',
        by: 'oncall',
        since,
        ...(until ? { until } : {}),
      });
      await source.write(JSON.stringify(frozen));
    };

    it("records the safe variant in the flag when a rollout starts, for the server's kill switch", async () => {
      const { controller, flag } = setUp();
      await controller().start();
      expect((await flag())['checkout']?.['metadata']).toMatchObject({
        'rollout.safeVariant': 'off',
      });
    });

    it('holds instead of advancing, naming the freeze, and advances once it expires', async () => {
      const { controller, flag, advance, source, clock } = setUp();
      const c = controller();
      await c.start();
      await freeze(source, clock.now() + 60 * MINUTE);
      advance(11 * MINUTE);
      const held = await c.step();
      expect(held).toMatchObject({ action: 'hold', changed: false });
      expect(held.reason).toMatch(/frozen by oncall .*INC-7/);
      expect((await flag())['checkout']?.['metadata']).toMatchObject({ 'rollout.step': 0 });
      advance(60 * MINUTE);
      expect((await c.step()).action).toBe('advance');
    });

    it('refuses to start a rollout, and still rolls back on harm', async () => {
      const { controller, advance, source, flag } = setUp({
        treatment: 0.2,
        control: 0.001,
        ring: 0.2,
      });
      await freeze(source);
      await expect(controller().start()).rejects.toThrow(/frozen by oncall/);
      expect((await flag())['checkout']?.['targeting']).toBeUndefined();
      const {
        controller: second,
        source: other,
        advance: later,
      } = setUp({ treatment: 0.2, control: 0.001, ring: 0.2 });
      const c = second();
      await c.start();
      await freeze(other);
      later(11 * MINUTE);
      advance(0);
      const outcome = await c.step();
      expect(outcome.rollout.status).toBe('rolled-back');
    });

    it('loses a race with a freeze written between its read and its write', async () => {
      const { controller, flag, advance, source } = setUp();
      const c = controller();
      await c.start();
      advance(11 * MINUTE);
      const write = source.write.bind(source);
      let raced = false;
      source.write = async (configuration: string, options?: { expected?: string }) => {
        if (!raced) {
          raced = true;
          await freeze(source); // lands first: the advance's compare-and-swap fails, it reads again
        }
        return write(configuration, options);
      };
      const outcome = await c.step();
      expect(outcome).toMatchObject({ action: 'hold', changed: false });
      expect(outcome.reason).toMatch(/frozen/);
      expect((await flag())['checkout']?.['metadata']).toMatchObject({ 'rollout.step': 0 });
    });
  });
});
