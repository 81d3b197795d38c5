/**
 * `npm run demo:rollout`: a guarded rollout, live, in well under a minute, with no outside services.
 *
 * The embedded server holds the `checkout` flag. A service evaluates it in-process (FlagdProvider
 * over the server's gRPC sync) for a stream of users and records each request's outcome per variant
 * (rampflag/otel's outcome recorder, ring users labelled by their `ring` attribute). The rollout
 * controller reads those outcomes in process and writes the flag through the server's admin API:
 * the internal ring first, then 10 % and 50 % of everyone. At 50 % a regression is injected (the
 * new checkout starts failing a quarter of its requests); the controller detects it with its
 * anytime-valid test and rolls back to the safe variant, and the service sees it at once.
 * `--json` prints the facts for programs (the example test reads it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import { createOutcomeRecorder } from 'rampflag/otel';
import {
  AuditLog,
  RolloutController,
  adminWriter,
  inProcessReader,
  parsePlan,
  verifyAudit,
  type RolloutOutcome,
} from 'rampflag/rollout';
import { FlagServer } from 'rampflag/server';

const json = process.argv.includes('--json');
const say = (line: string) => {
  if (!json) console.log(line);
};
const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

// The flag, served by the embedded server (its admin API answers loopback without a token).
const source = new InMemoryFlagSource({
  checkout: { variants: { on: true, off: false }, defaultVariant: 'off' },
});
const server = new FlagServer({
  source,
  syncPort: 0,
  httpPort: 0,
  managementPort: 0,
  ofrepPort: null,
});
const ports = await server.start();

// The service: in-process evaluation, outcomes recorded per variant and cohort.
await OpenFeature.setProviderAndWait(
  new FlagdProvider({ resolverType: 'in-process', host: '127.0.0.1', port: ports.syncPort }),
);
const client = OpenFeature.getClient();
const recorder = createOutcomeRecorder({ cohortAttribute: 'ring' });
let treatmentErrorRate = 0.01;
const BASE_ERROR_RATE = 0.01;

/** One request: a random user (one in twenty in the internal ring) whose checkout may fail. */
async function request(): Promise<void> {
  // a new user almost every time, so the split counted in requests is the split in users
  const i = Math.floor(Math.random() * 1e9);
  const context = {
    targetingKey: `user-${i}`,
    ...(Math.random() < 0.05 ? { ring: 'internal' } : {}),
  };
  const details = await client.getBooleanDetails('checkout', false, context);
  const variant = details.variant ?? 'off';
  const ok = Math.random() >= (details.value ? treatmentErrorRate : BASE_ERROR_RATE);
  recorder.record(new Map([['checkout', variant]]), 5, ok, new Map([['checkout', context]]));
}
let traffic = true;
const load = (async () => {
  while (traffic) {
    await Promise.all(Array.from({ length: 40 }, request));
    await new Promise((r) => setTimeout(r, 10));
  }
})();

// The rollout: the real controller, plan and decision code.
const plan = parsePlan({
  flag: 'checkout',
  treatment: 'on',
  control: 'off',
  rings: { attribute: 'ring', stages: ['internal'] },
  steps: [10, 50, 100],
  hold: '2s',
  checkEvery: '500ms',
  minSamples: 200,
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.02, maxRate: 0.2 }],
});
const dir = mkdtempSync(join(tmpdir(), 'rampflag-rollout-demo-'));
const auditPath = join(dir, 'audit.jsonl');
const controller = new RolloutController({
  plan,
  writer: adminWriter(`http://127.0.0.1:${ports.managementPort}`),
  reader: inProcessReader(recorder),
  audit: new AuditLog(auditPath),
  actor: 'demo',
});

const steps: { t: number; action: string; percent: number; reason: string }[] = [];
let injectedAt: number | undefined;
const show = (outcome: RolloutOutcome) => {
  const { rollout: r, decision } = outcome;
  const g = decision?.guardrails[0];
  const interval = g?.difference
    ? `Δ errors ${(g.difference.estimate * 100).toFixed(2)}% [${(g.difference.lower * 100).toFixed(2)}%, ${(g.difference.upper * 100).toFixed(2)}%]`
    : g?.ringRate
      ? `ring errors ${(g.ringRate.estimate * 100).toFixed(2)}% [${(g.ringRate.lower * 100).toFixed(2)}%, ${(g.ringRate.upper * 100).toFixed(2)}%]`
      : '';
  const samples = g ? `t ${g.samples.treatment} c ${g.samples.control} ring ${g.samples.ring}` : '';
  const stage = plan.steps[r.step]?.kind === 'ring' ? 'ring internal' : `${r.percent}%`;
  say(
    `${clock()}  ${stage.padEnd(13)} ${outcome.action.padEnd(8)} ${samples.padEnd(26)} ${interval}`,
  );
  if (outcome.action !== 'hold') say(`${' '.repeat(22)}↳ ${outcome.reason}`);
  steps.push({
    t: Date.now() - started,
    action: outcome.action,
    percent: r.percent,
    reason: outcome.reason,
  });
  if (r.percent >= 50 && injectedAt === undefined && r.status === 'running') {
    injectedAt = Date.now() - started;
    treatmentErrorRate = 0.25;
    say(`${clock()}  !! a regression: the new checkout now fails 25 % of its requests`);
  }
};

say('rampflag guarded rollout demo: checkout "on" for the internal ring, then 10 % → 50 % → 100 %');
say(`${clock()}  start: ${(await controller.start()).reason}`);
const last = await controller.run({ onStep: show, signal: AbortSignal.timeout(50_000) });
traffic = false;
await load;

// What everyone sees now: the safe variant, by name, with the rollout's state in its metadata.
const after = await client.getBooleanDetails('checkout', true, { targetingKey: 'user-7' });
const verified = verifyAudit(readFileSync(auditPath, 'utf8'));
const records = verified.ok ? verified.records : [];
say(
  `${clock()}  the service now gets checkout = ${after.value} (${after.variant}, ${after.reason}); rollout.status = ${String(after.flagMetadata['rollout.status'])}`,
);
say(`audit log (${records.length} records, chain ${verified.ok ? 'whole' : 'broken'}):`);
for (const r of records) say(`  ${r.time} ${r.actor} ${r.action}: ${r.reason.slice(0, 110)}`);
if (json)
  console.log(
    JSON.stringify({
      outcome: last.rollout.status,
      injectedAt,
      detectedAt: steps.find((s) => s.action === 'rollback')?.t,
      steps,
      after: {
        value: after.value,
        variant: after.variant,
        status: after.flagMetadata['rollout.status'],
      },
      audit: records.map((r) => ({ action: r.action, changed: r.changed, reason: r.reason })),
      seconds: (Date.now() - started) / 1000,
    }),
  );
await OpenFeature.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
