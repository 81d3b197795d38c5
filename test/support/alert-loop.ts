/**
 * The operations example (examples/operations/) with real parts, for the alert-rollback test and
 * bench/alert-loop.ts: `rampflag serve` with the example's flags and roles (fresh tokens), the
 * instrumented service (examples/rollout-service.ts) under load, Prometheus evaluating the
 * example's rules, and Alertmanager routing the alert to rampflag's `/admin/alerts`. Every
 * configuration is rendered from the example's files, so the example is what the test proves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { startAlertmanager, type AlertmanagerProcess } from './alertmanager.js';
import {
  EXAMPLE_PROMETHEUS_CONFIG,
  renderRules,
  startPrometheus,
  type PrometheusProcess,
} from './prometheus.js';
import {
  servePortArgs,
  startServe,
  stopProcess,
  type ServeChild,
  type ServeEntry,
} from './serve-process.js';

const EXAMPLE = resolve('examples/operations');
/** The flag the example's service evaluates, and its safe variant. */
export const FLAG = 'checkout';
export const SAFE = 'off';
export const TREATMENT = 'on';
/** The alert the example's rules raise. */
export const ALERT = 'FlagVariantErrorBudgetBurn';

/**
 * examples/operations/tokens.yaml with a fresh random token for each grant (its SHA-256 where the
 * example gives one), names and roles as written; and the tokens, by grant name.
 */
export function renderTokens(template = readFileSync(join(EXAMPLE, 'tokens.yaml'), 'utf8')): {
  text: string;
  tokens: Record<string, string>;
} {
  const doc = parseDocument(template);
  const grants = doc.get('tokens');
  if (!isSeq(grants)) throw new Error('the tokens file has no "tokens" list');
  const tokens: Record<string, string> = {};
  for (const grant of grants.items) {
    if (!isMap(grant)) continue;
    const token = `t-${randomBytes(18).toString('hex')}`;
    tokens[String(grant.get('name'))] = token;
    if (grant.has('sha256')) grant.set('sha256', createHash('sha256').update(token).digest('hex'));
    else grant.set('token', token);
  }
  return { text: doc.toString(), tokens };
}

/** `rampflag serve` on the example's flags, with the example's roles and an audit log. */
export interface Rampflag {
  readonly serve: ServeChild;
  readonly flagsFile: string;
  readonly auditFile: string;
  readonly tokens: Record<string, string>;
  /** The management API's base URL (`/admin/...`). */
  readonly admin: string;
  /** The example's flags file, as it was when the server started. */
  readonly flagsText: string;
  stop(): Promise<void>;
}

/** Starts `rampflag serve` in `dir` on a copy of examples/operations/flags.json. */
export async function startRampflag(
  dir: string,
  options: { entry?: ServeEntry } = {},
): Promise<Rampflag> {
  const flagsText = readFileSync(join(EXAMPLE, 'flags.json'), 'utf8');
  const flagsFile = join(dir, 'flags.json');
  writeFileSync(flagsFile, flagsText);
  const { text, tokens } = renderTokens();
  const tokensFile = join(dir, 'tokens.yaml');
  writeFileSync(tokensFile, text, { mode: 0o600 });
  const auditFile = join(dir, 'audit.jsonl');
  const serve = await startServe(
    [flagsFile, ...servePortArgs(), '--tokens-file', tokensFile, '--audit-log', auditFile],
    { entry: options.entry ?? 'source', env: withoutTokens(process.env) },
  );
  return {
    serve,
    flagsFile,
    auditFile,
    tokens,
    flagsText,
    admin: `http://127.0.0.1:${serve.ports.management}`,
    stop: () => stopProcess(serve.child),
  };
}

/** The environment without rampflag's token variables, so only the tokens file grants. */
function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of ['RAMPFLAG_ADMIN_TOKEN', 'RAMPFLAG_TOKENS', 'RAMPFLAG_TOKENS_FILE'])
    delete copy[name];
  return copy;
}

/** A GET on rampflag's management API with `token`; the JSON answer. */
export async function adminGet<T>(admin: string, path: string, token: string): Promise<T> {
  const res = await fetch(`${admin}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Starts examples/rollout-service.ts against `syncPort`; resolves with its port. */
export async function startService(
  syncPort: number,
  rates: { base?: number; treatment: number },
): Promise<{ child: ChildProcess; port: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve('examples/rollout-service.ts')],
    {
      env: {
        ...process.env,
        SYNC_PORT: String(syncPort),
        BASE_ERROR_RATE: String(rates.base ?? 0.01),
        TREATMENT_ERROR_RATE: String(rates.treatment),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const port = await new Promise<number>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`the service said nothing: ${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        ready(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`the service exited ${code}: ${output}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, port, stop: () => stopProcess(child) };
}

/**
 * Requests from new random users to the service's `/checkout`, `workers` at a time, until stopped;
 * `internalShare` of them (0 to 1) from users in the internal ring.
 */
export function sendLoad(port: number, { workers = 4, internalShare = 0 } = {}) {
  let running = true;
  let sent = 0;
  const worker = async () => {
    while (running) {
      // a new user almost every request: counted in requests, the split is then as good as users
      const user = `user-${Math.floor(Math.random() * 1e9)}`;
      const ring = Math.random() < internalShare ? '&ring=internal' : '';
      await fetch(`http://127.0.0.1:${port}/checkout?user=${user}${ring}`).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
      sent++;
    }
  };
  const loops = Array.from({ length: workers }, worker);
  return {
    sent: () => sent,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Alertmanager and Prometheus, configured from the example's files. */
export interface Alerting {
  readonly prometheus: PrometheusProcess;
  readonly alertmanager: AlertmanagerProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The timings the example's production values are replaced with (ms). */
export interface AlertTimings {
  /** Each alert rule's `for`. */
  readonly forMs?: number;
  readonly groupWaitMs?: number;
  readonly groupIntervalMs?: number;
  readonly repeatIntervalMs?: number;
}

/**
 * Starts Alertmanager (webhook to `webhookUrl`, bearer token from `tokenFile`) and then Prometheus
 * (scraping `servicePort` every second, evaluating the example's rules every second, alerting that
 * Alertmanager); both from the example's configurations, with `timings` in place of its own.
 */
export async function startAlerting(
  binaries: { prometheus: string; alertmanager: string },
  options: AlertTimings & {
    dir: string;
    servicePort: number;
    webhookUrl: string;
    tokenFile: string;
  },
): Promise<Alerting> {
  const { dir, ...timings } = options;
  const alertmanager = await startAlertmanager(binaries.alertmanager, {
    webhookUrl: options.webhookUrl,
    tokenFile: options.tokenFile,
    ...(timings.groupWaitMs === undefined ? {} : { groupWaitMs: timings.groupWaitMs }),
    ...(timings.groupIntervalMs === undefined ? {} : { groupIntervalMs: timings.groupIntervalMs }),
    ...(timings.repeatIntervalMs === undefined
      ? {}
      : { repeatIntervalMs: timings.repeatIntervalMs }),
  });
  const rules = join(dir, 'rules.yml');
  writeFileSync(rules, renderRules(timings.forMs === undefined ? {} : { forMs: timings.forMs }));
  let prometheus: PrometheusProcess;
  try {
    prometheus = await startPrometheus(binaries.prometheus, [`127.0.0.1:${options.servicePort}`], {
      ruleFiles: [rules],
      alertmanagerUrl: alertmanager.url,
      template: readFileSync(EXAMPLE_PROMETHEUS_CONFIG, 'utf8'),
    });
  } catch (error) {
    await alertmanager.stop();
    throw error;
  }
  return {
    prometheus,
    alertmanager,
    output: () =>
      `--- Prometheus ---\n${prometheus.output().slice(-3000)}\n--- Alertmanager ---\n${alertmanager.output().slice(-6000)}`,
    stop: async () => {
      await prometheus.stop();
      await alertmanager.stop();
    },
  };
}

/**
 * The first evaluation (ms since the epoch) at which Prometheus had `alertname` firing, from the
 * `ALERTS` series' own sample timestamps; undefined while it has not fired.
 */
export async function firstFiring(prometheusUrl: string, alertname = ALERT) {
  const query = `ALERTS{alertname="${alertname}",alertstate="firing"}[10m]`;
  const body = (await fetch(
    `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`,
  ).then((r) => r.json())) as { data?: { result?: { values: [number, string][] }[] } };
  const times = (body.data?.result ?? []).flatMap((r) => r.values.map(([t]) => t * 1000));
  return times.length === 0 ? undefined : Math.min(...times);
}
