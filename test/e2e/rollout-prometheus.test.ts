import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { rollout } from '../../src/cli/rollout.js';
import { verifyAudit } from '../../src/rollout/audit.js';
import { sendLoad, startService } from '../support/alert-loop.js';
import {
  binary,
  describeWithBinary,
  startPrometheus,
  type PrometheusProcess,
} from '../support/prometheus.js';
import {
  servePortArgs,
  startServe,
  stopProcess,
  type ServeChild,
} from '../support/serve-process.js';

const prometheusBinary = binary('prometheus');
const dir = mkdtempSync(join(tmpdir(), 'rampflag-e2e-'));
const TOKEN = 'e2e-admin-token';
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

interface Scenario {
  serve: ServeChild;
  service: { port: number };
  prometheus: PrometheusProcess;
  flags: string;
  plan: string;
  audit: string;
}

async function scenario(name: string, treatmentErrorRate: number): Promise<Scenario> {
  const flags = join(dir, `${name}.flags.json`);
  writeFileSync(
    flags,
    `${JSON.stringify({ flags: { checkout: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' } } }, null, 2)}\n`,
  );
  const serve = await startServe([flags, ...servePortArgs()], {
    env: { ...process.env, RAMPFLAG_ADMIN_TOKEN: TOKEN },
  });
  stops.push(() => stopProcess(serve.child));
  const service = await startService(serve.ports.sync, { treatment: treatmentErrorRate });
  stops.push(() => service.stop());
  const prometheus = await startPrometheus(prometheusBinary as string, [
    `127.0.0.1:${service.port}`,
  ]);
  stops.push(() => prometheus.stop());
  const plan = join(dir, `${name}.plan.yaml`);
  writeFileSync(
    plan,
    [
      'flag: checkout',
      'treatment: "on"',
      'control: "off"',
      'rings: { attribute: ring, stages: [internal] }',
      'steps: [20, 50, 100]',
      'hold: 3s',
      'checkEvery: 1s',
      'minSamples: 100',
      'stepTimeout: 60s',
      'guardrails:',
      '  - { name: errors, metric: error-rate, maxIncrease: 0.05, maxRate: 0.2 }',
      `metrics: { prometheus: ${prometheus.url} }`,
      '',
    ].join('\n'),
  );
  return { serve, service, prometheus, flags, plan, audit: join(dir, `${name}.audit.jsonl`) };
}

/** `rampflag rollout <command>` against the server's admin API; its exit code and output lines. */
async function cli(s: Scenario, command: string, timeoutMs = 90_000) {
  const lines: string[] = [];
  const io = {
    stdout: (l: string) => void lines.push(l),
    stderr: (l: string) => void lines.push(l),
    signal: AbortSignal.timeout(timeoutMs),
  };
  const args = [
    command,
    '--plan',
    s.plan,
    '--admin',
    `http://127.0.0.1:${s.serve.ports.management}`,
    '--audit',
    s.audit,
    '--json',
  ];
  const code = await rollout(args, io, { RAMPFLAG_ADMIN_TOKEN: TOKEN });
  return { code, lines };
}

describeWithBinary(
  prometheusBinary,
  'a guarded rollout with real parts: rampflag serve, a service, Prometheus',
  () => {
    it('ramps a healthy release to 100 %', async () => {
      const s = await scenario('healthy', 0.01);
      const traffic = sendLoad(s.service.port, { workers: 8, internalShare: 0.05 });
      try {
        expect((await cli(s, 'start')).code).toBe(0);
        const run = await cli(s, 'run');
        const outcomes = run.lines.map((l) => JSON.parse(l) as { action: string; reason: string });
        expect(run.code, outcomes.map((o) => `${o.action}: ${o.reason}`).join('\n')).toBe(11); // completed
        expect(outcomes.filter((o) => o.action === 'advance')).toHaveLength(3); // ring → 20 → 50 → 100
        expect(outcomes.at(-1)).toMatchObject({
          action: 'complete',
          rollout: { status: 'completed', percent: 100 },
        });
      } finally {
        await traffic.stop();
      }
      expect(traffic.sent()).toBeGreaterThan(500);
    }, 150_000);

    it('rolls back an injected regression: the safe variant is served and the audit log says why', async () => {
      const s = await scenario('regression', 0.5);
      const traffic = sendLoad(s.service.port, { workers: 8, internalShare: 0.05 });
      try {
        expect((await cli(s, 'start')).code).toBe(0);
        const run = await cli(s, 'run');
        expect(run.code).toBe(12); // rolled back
        expect(JSON.parse(run.lines.at(-1) as string)).toMatchObject({
          action: 'rollback',
          rollout: { status: 'rolled-back' },
        });
      } finally {
        await traffic.stop();
      }
      // curl ResolveBoolean for a bucketed user: the safe variant, by name
      const resolved = await fetch(
        `http://127.0.0.1:${s.serve.ports.http}/flagd.evaluation.v1.Service/ResolveBoolean`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ flagKey: 'checkout', context: { targetingKey: 'user-7' } }),
        },
      ).then((r) => r.json() as Promise<Record<string, unknown>>);
      expect(resolved).toMatchObject({
        value: false,
        variant: 'off',
        reason: 'STATIC',
        metadata: { 'rollout.status': 'rolled-back' },
      });
      // the provider in the service sees it in flagMetadata, ring users included
      let details: { value?: boolean; flagMetadata?: Record<string, unknown> } = {};
      for (let i = 0; i < 50 && details.flagMetadata?.['rollout.status'] !== 'rolled-back'; i++) {
        details = (await fetch(
          `http://127.0.0.1:${s.service.port}/flag?user=user-20&ring=internal`,
        ).then((r) => r.json())) as typeof details;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(details).toMatchObject({
        value: false,
        flagMetadata: { 'rollout.status': 'rolled-back' },
      });
      // the audit log explains why, and its chain is whole
      const verified = verifyAudit(readFileSync(s.audit, 'utf8'));
      expect(verified.ok).toBe(true);
      if (!verified.ok) return;
      const last = verified.records.at(-1);
      expect(last).toMatchObject({ action: 'rollback', changed: true });
      expect(last?.reason).toMatch(
        /errors: the (ring cohort's|treatment's) rate .* is past its limit 20\.000 %|treatment − control/,
      );
      const printed = JSON.parse((await cli(s, 'audit')).lines.join('')) as { action: string }[];
      expect(printed.map((r) => r.action)).toEqual(verified.records.map((r) => r.action));
    }, 150_000);
  },
);
