/**
 * The alert loop, timed part by part: `rampflag serve` (the build) on the operations example
 * (examples/operations/: its flags, roles, rules and Alertmanager route), the instrumented service
 * failing half the treatment's requests, Prometheus evaluating the example's SLO rule every second,
 * Alertmanager posting to rampflag's `/admin/alerts`, and `providers` in-process FlagdProviders in
 * this process on the server's gRPC sync port, each evaluating users the flag gives the treatment.
 * A round measures, on the machine's one wall clock:
 *
 *   the alert fires   the first `ALERTS{alertstate="firing"}` sample (the rule evaluation's time)
 *   → Alertmanager    the alert's `updatedAt` in Alertmanager's API (Prometheus' post arrived)
 *   → rampflag        the webhook's arrival, timed by a pass-through proxy in this process
 *   → audit record    the record's own time, as the server stamped it
 *   → providers       the first and the last provider serving the safe variant to all its users
 *   → answered        the webhook's answer (the flag written and audited) back at the proxy
 *
 * The rule's `for` is 1 s (spent before the alert fires, so not measured); the route's group_wait
 * is the example's unless `--group-wait <ms>` says otherwise (`--smoke`: 1 s, 20 providers, one
 * round). Each round restores the rollout (the flags file rewritten behind the server's back) and
 * starts a fresh Prometheus and Alertmanager, so the alert is a new one. Prints a table and one
 * JSON line; exits 1 when a round does not end with every provider on the safe variant. Skips, with
 * a line saying so, where Prometheus or Alertmanager is not installed (under CI=true that fails).
 * `node --import tsx bench/alert-loop.ts [--smoke] [--providers 200] [--rounds 3] [--group-wait <ms>]`
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenFeature, ProviderEvents, type Client } from '@openfeature/server-sdk';
import type * as RolloutModule from '../src/rollout/index.js';
import {
  ALERT,
  FLAG,
  SAFE,
  TREATMENT,
  firstFiring,
  sendLoad,
  startAlerting,
  startRampflag,
  startService,
  type Alerting,
} from '../test/support/alert-loop.js';
import { EXAMPLE_ALERTMANAGER_CONFIG, alertmanagerAlerts } from '../test/support/alertmanager.js';
import { binary } from '../test/support/prometheus.js';
import { fleetProvider } from './fleet-provider.js';
import { quantiles } from './quantiles.js';

const rolloutUrl = new URL('../dist/rollout.js', import.meta.url).href;
const { verifyAudit } = (await import(rolloutUrl)) as typeof RolloutModule;

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
function option(name: string, full: number | undefined, small: number | undefined) {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : smoke ? small : full;
}
const total = option('providers', 200, 20) as number;
const rounds = option('rounds', 3, 1) as number;
const groupWaitMs = option('group-wait', undefined, 1000);
const USERS = 5; // treatment users per provider
const SWEEP_MS = 10;
const ROUND_MS = 90_000;

const prometheusPath = binary('prometheus');
const alertmanagerPath = binary('prometheus-alertmanager');
if (prometheusPath === undefined || alertmanagerPath === undefined) {
  console.log('Alert loop: skipped, Prometheus or Alertmanager is not installed');
  process.exit(0);
}

/** One provider of the fleet: its client, its treatment users, when it first served them all safe. */
interface Member {
  readonly client: Client;
  users: string[];
  safeAt: number | undefined;
}

const variantOf = async (client: Client, user: string) =>
  (await client.getBooleanDetails(FLAG, false, { targetingKey: user })).variant;

async function allServe(m: Member, variant: string): Promise<boolean> {
  for (const user of m.users) if ((await variantOf(m.client, user)) !== variant) return false;
  return true;
}

/** Webhook calls as they passed through the proxy: arrival, answer, status and body (ms, wall clock). */
interface Call {
  readonly arrived: number;
  answered: number;
  status: number;
  body: string;
}

/** A pass-through proxy in front of rampflag's `/admin/alerts` that times each webhook call. */
async function startProxy(target: string) {
  const calls: Call[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const call: Call = { arrived: Date.now(), answered: NaN, status: 0, body: '' };
    calls.push(call);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'user-agent'])
        if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
      fetch(`${target}${req.url ?? ''}`, {
        method: req.method ?? 'POST',
        headers,
        body: Buffer.concat(chunks),
      })
        .then(async (answer) => {
          call.body = await answer.text();
          call.status = answer.status;
        })
        .catch((error: unknown) => {
          call.body = String(error);
          call.status = 502;
        })
        .finally(() => {
          call.answered = Date.now();
          res.statusCode = call.status;
          res.setHeader('Content-Type', 'application/json');
          res.end(call.body);
        });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'rampflag-alert-bench-'));
const rampflag = await startRampflag(dir, { entry: 'dist' });
const service = await startService(rampflag.serve.ports.sync, { treatment: 0.5 });
const traffic = sendLoad(service.port);
const proxy = await startProxy(rampflag.admin);
const tokenFile = join(dir, 'alertmanager.token');
writeFileSync(tokenFile, `${rampflag.tokens['alertmanager']}\n`, { mode: 0o600 });

// the fleet: every provider on a domain of its own, each told of changes
const fleet: Member[] = [];
let watching = false;
const checkSafe = async (m: Member) => {
  if (!watching || m.safeAt !== undefined) return;
  if (await allServe(m, SAFE)) m.safeAt ??= Date.now();
};
for (let i = 0; i < total; i++) {
  const domain = `alert-loop-${i}`;
  const { sync, http } = rampflag.serve.ports;
  await OpenFeature.setProviderAndWait(domain, fleetProvider('grpc', sync, http));
  const m: Member = { client: OpenFeature.getClient(domain), users: [], safeAt: undefined };
  m.client.addHandler(ProviderEvents.ConfigurationChanged, () => void checkSafe(m));
  fleet.push(m);
}
// each provider's treatment users, once: the same users every round (bucketing is sticky)
for (const [i, m] of fleet.entries())
  for (let k = 0; m.users.length < USERS && k < 2_000; k++)
    if ((await variantOf(m.client, `user-${i}-${k}`)) === TREATMENT) m.users.push(`user-${i}-${k}`);

interface Round {
  /** ms from the alert firing to each step. */
  alertmanager: number;
  webhook: number;
  audit: number;
  answered: number;
  firstSafe: number;
  lastSafe: number;
  /** What rampflag answered the webhook. */
  answer: string;
}

/** Puts the rollout back as the example has it, and waits until every provider serves the treatment again. */
async function restore(): Promise<void> {
  const temp = `${rampflag.flagsFile}.restore`;
  writeFileSync(temp, rampflag.flagsText);
  renameSync(temp, rampflag.flagsFile);
  const end = Date.now() + 30_000;
  for (const m of fleet)
    while (!(await allServe(m, TREATMENT))) {
      if (Date.now() > end) throw new Error('the providers did not serve the restored rollout');
      await sleep(20);
    }
}

async function round(): Promise<Round> {
  for (const m of fleet) m.safeAt = undefined;
  watching = true;
  const callsBefore = proxy.calls.length;
  const alerting: Alerting = await startAlerting(
    { prometheus: prometheusPath as string, alertmanager: alertmanagerPath as string },
    {
      dir,
      servicePort: service.port,
      webhookUrl: `${proxy.url}/admin/alerts`,
      tokenFile,
      forMs: 1000,
      ...(groupWaitMs === undefined ? {} : { groupWaitMs }),
    },
  );
  try {
    const end = Date.now() + ROUND_MS;
    while (fleet.some((m) => m.safeAt === undefined) || proxy.calls.length === callsBefore) {
      if (Date.now() > end)
        throw new Error(
          `round not done in ${ROUND_MS} ms: ${fleet.filter((m) => m.safeAt === undefined).length} providers not safe, ${proxy.calls.length - callsBefore} webhook calls\n${alerting.output()}`,
        );
      // after the webhook, a sweep besides the CONFIGURATION_CHANGED handlers
      if (proxy.calls.length > callsBefore) for (const m of fleet) await checkSafe(m);
      await sleep(SWEEP_MS);
    }
    watching = false;
    const call = proxy.calls[callsBefore] as Call;
    while (Number.isNaN(call.answered)) await sleep(5);
    const fired = await firstFiring(alerting.prometheus.url);
    const alert = (await alertmanagerAlerts(alerting.alertmanager.url)).find(
      (a) => a.labels['alertname'] === ALERT,
    );
    const verified = verifyAudit(readFileSync(rampflag.auditFile, 'utf8'));
    const record = verified.ok
      ? [...verified.records]
          .reverse()
          .find((r) => r.actor === 'alertmanager' && r.flag === FLAG && r.changed)
      : undefined;
    if (fired === undefined || alert === undefined || record === undefined)
      throw new Error(
        `missing evidence: firing ${fired}, Alertmanager's alert ${alert?.fingerprint}, audit record ${record?.seq}`,
      );
    const safeTimes = fleet.map((m) => m.safeAt as number);
    const since = (t: number) => t - fired;
    return {
      alertmanager: since(Date.parse(alert.updatedAt)),
      webhook: since(call.arrived),
      audit: since(Date.parse(record.time)),
      answered: since(call.answered),
      firstSafe: since(Math.min(...safeTimes)),
      lastSafe: since(Math.max(...safeTimes)),
      answer: call.body,
    };
  } finally {
    watching = false;
    await alerting.stop();
  }
}

const results: Round[] = [];
let failed = false;
try {
  for (let r = 0; r < rounds; r++) {
    if (r > 0) await restore();
    results.push(await round());
  }
} catch (error) {
  console.log(`Alert loop failed: ${(error as Error).message}`);
  failed = true;
} finally {
  await traffic.stop();
  await OpenFeature.close();
  await proxy.close();
  await service.stop();
  await rampflag.stop();
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (ms: number) => (Number.isNaN(ms) ? 'n/a' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
/** Each part of the loop, per round: ms from one moment to the next. */
const parts: [string, (r: Round) => number][] = [
  ['the alert fires → Alertmanager has it (Prometheus notifier)', (r) => r.alertmanager],
  [
    `→ the webhook reaches rampflag (group_wait ${exampleGroupWait()})`,
    (r) => r.webhook - r.alertmanager,
  ],
  ['webhook → its audit record (time stamped by the server)', (r) => r.audit - r.webhook],
  ['webhook → the first provider serves the safe variant', (r) => r.firstSafe - r.webhook],
  [`webhook → the last of ${total} providers serves it`, (r) => r.lastSafe - r.webhook],
  ['webhook → answered (flag written, audited)', (r) => r.answered - r.webhook],
  [`total: the alert fires → all ${total} providers safe`, (r) => r.lastSafe],
];
console.log(
  `Alert loop: ${total} in-process providers over gRPC sync, ${results.length} round${results.length === 1 ? '' : 's'}; ms${smoke ? ' (SMOKE run)' : ''}`,
);
console.log(
  `(${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version})`,
);
console.log(`| part | ${results.map((_, i) => `round ${i + 1}`).join(' | ')} | median |`);
console.log(`|---|${results.map(() => '---:|').join('')}---:|`);
for (const [label, of] of parts) {
  const values = results.map(of);
  console.log(`| ${label} | ${values.map(fmt).join(' | ')} | ${fmt(quantiles(values).p50)} |`);
}
if (results.length > 0) console.log(`rampflag answered: ${results.at(-1)?.answer}`);
console.log(
  JSON.stringify({
    bench: 'alert-loop',
    providers: total,
    rounds: results.length,
    groupWait: exampleGroupWait(),
    msSinceFiring: Object.fromEntries(
      (['alertmanager', 'webhook', 'audit', 'answered', 'firstSafe', 'lastSafe'] as const).map(
        (key) => [key, results.map((r) => r[key])],
      ),
    ),
  }),
);
if (failed || results.length < rounds) process.exitCode = 1;

/** The group_wait in force: `--group-wait`, or the example's route to rampflag. */
function exampleGroupWait(): string {
  if (groupWaitMs !== undefined) return `${groupWaitMs}ms`;
  const text = readFileSync(EXAMPLE_ALERTMANAGER_CONFIG, 'utf8');
  return /receiver: rampflag[\s\S]*?group_wait: (\S+)/.exec(text)?.[1] ?? 'as the example sets it';
}
