import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { STEP_EXIT } from '../../src/cli/rollout.js';
import { fakeIo } from '../support/cli-io.js';
import { fakePrometheus } from '../support/fake-prometheus.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-cli-rollout-'));
let prometheus: Awaited<ReturnType<typeof fakePrometheus>>;
beforeAll(async () => {
  prometheus = await fakePrometheus({
    on: { requests: 1000, failures: 1 },
    off: { requests: 9000, failures: 9 },
  });
});
afterAll(async () => {
  await prometheus.close();
  rmSync(dir, { recursive: true, force: true });
});

function files(name: string) {
  const flags = join(dir, `${name}.json`);
  const plan = join(dir, `${name}.plan.yaml`);
  const audit = join(dir, `${name}.audit.jsonl`);
  const flag = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' };
  writeFileSync(flags, `${JSON.stringify({ flags: { checkout: flag, other: flag } }, null, 2)}\n`);
  writeFileSync(
    plan,
    `flag: checkout\ntreatment: "on"\ncontrol: "off"\nsteps: [10, 100]\nhold: 1ms\nminSamples: 100\nmetrics: { prometheus: ${prometheus.url} }\n`,
  );
  return { flags, plan, audit, args: ['--plan', plan, '--flags', flags, '--audit', audit] };
}

async function run(...argv: string[]) {
  const { io, out, err } = fakeIo();
  const code = await main(['rollout', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const flagIn = (file: string) =>
  (JSON.parse(readFileSync(file, 'utf8')) as { flags: Record<string, Record<string, unknown>> })
    .flags['checkout'];

describe('rampflag rollout', () => {
  it('starts, steps to completion with documented exit codes, and keeps the file a small diff', async () => {
    const f = files('healthy');
    const before = readFileSync(f.flags, 'utf8');
    expect((await run('start', ...f.args)).code).toBe(0);
    const started = readFileSync(f.flags, 'utf8');
    expect(started.split('\n').slice(0, 2)).toEqual(before.split('\n').slice(0, 2)); // indentation kept
    expect(flagIn(f.flags)?.['targeting']).toEqual({
      fractional: [
        ['on', 100],
        ['off', 900],
      ],
    });
    const step = await run('step', ...f.args);
    expect(step.code).toBe(STEP_EXIT.advance);
    expect(step.out).toMatch(/^advance: every guardrail passed/);
    expect(step.out).toMatch(/errors ok: treatment 1000, control 9000 Δ/);
    prometheus.traffic.off = { requests: 0, failures: 0 }; // at 100 % nobody is bucketed into the control
    const last = await run('step', ...f.args, '--json').finally(() => {
      prometheus.traffic.off = { requests: 9000, failures: 9 };
    });
    expect(last.code).toBe(STEP_EXIT.complete);
    expect(JSON.parse(last.out)).toMatchObject({
      action: 'complete',
      rollout: { status: 'completed', percent: 100 },
    });
    expect((await run('step', ...f.args)).code).toBe(STEP_EXIT.complete);
    const status = await run('status', ...f.args, '--json');
    expect(JSON.parse(status.out)).toMatchObject({ rollout: { status: 'completed' } });
    expect(
      prometheus.queries.some((q) =>
        q.includes('increase(rampflag_requests_total{feature_flag_key="checkout"}'),
      ),
    ).toBe(true);
  });

  it('rolls back a regression to the safe variant, and the audit log explains why', async () => {
    const f = files('regression');
    expect((await run('start', ...f.args)).code).toBe(0);
    prometheus.traffic.on.failures = 100; // 10 % against 0.1 %
    try {
      const step = await run('step', ...f.args);
      expect(step.code).toBe(STEP_EXIT.rollback);
      expect(step.out).toMatch(/^rollback: errors: treatment − control/);
    } finally {
      prometheus.traffic.on.failures = 1;
    }
    expect(flagIn(f.flags)).toMatchObject({
      defaultVariant: 'off',
      metadata: { 'rollout.status': 'rolled-back' },
    });
    expect(flagIn(f.flags)?.['targeting']).toBeUndefined();
    const audit = await run('audit', ...f.args);
    expect(audit.out).toMatch(/ start: rollout started\n.* rollback: errors: treatment − control/);
    expect((await run('audit', '--verify', ...f.args)).out).toMatch(/^audit log ok: 2 records/);
  });

  it('detects a changed or removed audit line', async () => {
    const f = files('tampered');
    await run('start', ...f.args);
    await run('kill', ...f.args, '--reason', 'incident');
    const text = readFileSync(f.audit, 'utf8');
    writeFileSync(f.audit, text.replace('incident', 'routine'));
    const changed = await run('audit', '--verify', ...f.args);
    expect(changed.code).toBe(1);
    expect(changed.out).toMatch(/audit log broken at line 2|does not match the flag/);
    writeFileSync(f.audit, `${text.split('\n')[0]}\n`); // the kill record removed
    const removed = await run('audit', '--verify', ...f.args);
    expect(removed.code).toBe(1);
    expect(removed.out).toMatch(/rollout.audit .* is not in the log: records were removed/);
  });

  it('kills idempotently', async () => {
    const f = files('kill');
    expect((await run('kill', ...f.args)).out).toMatch(/^kill: kill switch/);
    const again = await run('kill', ...f.args);
    expect(again.out).toMatch(/^kill: kill switch: no change\n/);
    expect(flagIn(f.flags)).toMatchObject({
      defaultVariant: 'off',
      metadata: { 'rollout.status': 'killed' },
    });
  });

  it('refuses a bad plan with every problem by its path, writing nothing', async () => {
    const f = files('bad');
    writeFileSync(f.plan, 'flag: checkout\ntreatment: "on"\ncontrol: "on"\nsteps: [50, 20]\n');
    const before = readFileSync(f.flags, 'utf8');
    const result = await run('start', ...f.args);
    expect(result.code).toBe(STEP_EXIT.usage);
    expect(result.err).toMatch(
      /refused\n {2}control: must differ from treatment\n[\s\S]*steps\[1\]: steps must increase strictly: 20 after 50/,
    );
    expect(readFileSync(f.flags, 'utf8')).toBe(before);
  });

  it('simulates a plan with its real decisions', async () => {
    const f = files('simulate');
    writeFileSync(
      f.plan,
      'flag: checkout\ntreatment: "on"\ncontrol: "off"\nsteps: [5, 25, 100]\nhold: 30m\nminSamples: 500\ncheckEvery: 1m\n',
    );
    const result = await run('simulate', '--plan', f.plan, '--runs', '40', '--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.out) as {
      sequential: {
        aa: { rolledBack: { of: number } };
        regression: { rolledBack: { rate: number } };
      };
    };
    expect(summary.sequential.aa.rolledBack.of).toBe(40);
    expect(summary.sequential.regression.rolledBack.rate).toBeGreaterThan(0.5);
    expect((await run('simulate', '--plan', f.plan, '--runs', 'many')).err).toMatch(
      /--runs: "many" is not a positive whole number/,
    );
  });

  it('redraws its progress in place on a terminal, and appends lines elsewhere', async () => {
    const f = files('progress');
    writeFileSync(
      f.plan,
      `${readFileSync(f.plan, 'utf8').replace('hold: 1ms', 'hold: 10m')}checkEvery: 200ms\n`,
    );
    await run('start', ...f.args);
    const watch = async (tty: boolean) => {
      const { io, out } = fakeIo({ tty, signal: AbortSignal.timeout(700) });
      expect(await main(['rollout', 'run', ...f.args], io)).toBe(STEP_EXIT.hold);
      return out;
    };
    const terminal = await watch(true);
    expect(terminal.length).toBeGreaterThan(1);
    expect(terminal[0]).toMatch(/^hold: holding: \d+m( \d+s)? left in this step/);
    for (const block of terminal.slice(1)) {
      // eslint-disable-next-line no-control-regex -- the terminal escape is what is tested
      expect(block).toMatch(/^\x1b\[\d+A\x1b\[J(hold|advance)/);
    }
    const piped = await watch(false);
    for (const block of piped) expect(block).toMatch(/^hold: /);
  });

  it('explains its usage', async () => {
    expect((await run('--help')).out).toMatch(/exit codes of step/);
    expect((await run('start')).code).toBe(STEP_EXIT.usage);
    expect((await run('start', '--plan', 'x.yaml')).err).toMatch(/cannot read the plan x\.yaml/);
  });
});
