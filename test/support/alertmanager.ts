import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { startOnFreePort, type LoopbackProcess } from './loopback-process.js';

/** The Alertmanager configuration the operations example ships, which tests render from. */
export const EXAMPLE_ALERTMANAGER_CONFIG = resolve('examples/operations/alertmanager.yml');

/** How to run Alertmanager: where its webhook receiver posts, with what token, how fast. */
export interface AlertmanagerOptions {
  /** The URL the receiver's webhook posts to (rampflag's `/admin/alerts`). */
  readonly webhookUrl: string;
  /** A file holding the bearer token the webhook sends (`http_config.authorization.credentials_file`). */
  readonly tokenFile?: string;
  /** The route's `group_wait`, `group_interval` and `repeat_interval` (ms). Default: the template's. */
  readonly groupWaitMs?: number;
  readonly groupIntervalMs?: number;
  readonly repeatIntervalMs?: number;
  /** The receiver whose webhook is pointed at `webhookUrl`. Default `rampflag`. */
  readonly receiver?: string;
  /** The configuration text rendered from. Default: examples/operations/alertmanager.yml. */
  readonly template?: string;
}

/** A running Alertmanager: its URL, its configuration file, and a stop that removes its data. */
export interface AlertmanagerProcess extends LoopbackProcess {
  readonly configFile: string;
}

const ms = (n: number) => `${Math.max(1, Math.round(n))}ms`;

/**
 * `template` (an Alertmanager configuration, by default the example's) with the receiver's webhook
 * pointed at `webhookUrl` with `tokenFile`, and the timings given set on every route that routes to
 * that receiver (the top route too when it does); everything else, comments included, as written.
 * Throws when the template has no such receiver or webhook: the example no longer fits the test.
 */
export function renderAlertmanagerConfig(options: AlertmanagerOptions): string {
  const name = options.receiver ?? 'rampflag';
  const text = options.template ?? readFileSync(EXAMPLE_ALERTMANAGER_CONFIG, 'utf8');
  const doc = parseDocument(text);
  const receivers = doc.get('receivers');
  const receiver = isSeq(receivers)
    ? receivers.items.find((r) => isMap(r) && r.get('name') === name)
    : undefined;
  const hooks = isMap(receiver) ? receiver.get('webhook_configs') : undefined;
  if (!isSeq(hooks) || hooks.items.length === 0)
    throw new Error(`the Alertmanager configuration has no receiver "${name}" with a webhook`);
  for (const hook of hooks.items) {
    if (!isMap(hook)) continue;
    hook.set('url', options.webhookUrl);
    if (options.tokenFile !== undefined) bearerFromFile(hook, options.tokenFile);
  }
  const timings: [string, number | undefined][] = [
    ['group_wait', options.groupWaitMs],
    ['group_interval', options.groupIntervalMs],
    ['repeat_interval', options.repeatIntervalMs],
  ];
  const routes: YAMLMap[] = [];
  const walk = (route: unknown, inherited: unknown) => {
    if (!isMap(route)) return;
    const receives = route.get('receiver') ?? inherited;
    if (receives === name) routes.push(route);
    const children = route.get('routes');
    if (isSeq(children)) for (const child of children.items) walk(child, receives);
  };
  walk(doc.get('route'), undefined);
  if (routes.length === 0) throw new Error(`no route of the configuration sends to "${name}"`);
  for (const route of routes)
    for (const [key, value] of timings) if (value !== undefined) route.set(key, ms(value));
  return doc.toString();
}

/** Makes `hook` send a Bearer token read from `tokenFile` (`http_config.authorization`). */
function bearerFromFile(hook: YAMLMap, tokenFile: string): void {
  hook.setIn(['http_config', 'authorization', 'type'], 'Bearer');
  hook.setIn(['http_config', 'authorization', 'credentials_file'], tokenFile);
  hook.deleteIn(['http_config', 'authorization', 'credentials']);
}

/**
 * Starts Alertmanager (the Debian package's `prometheus-alertmanager`, found with `binary()`) on a
 * free loopback port, clustering off, with a temporary storage directory and the configuration
 * {@link renderAlertmanagerConfig} renders; resolves once `/-/ready` answers 200.
 */
export async function startAlertmanager(
  path: string,
  options: AlertmanagerOptions,
): Promise<AlertmanagerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'rampflag-alertmanager-'));
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, renderAlertmanagerConfig(options));
  const started = await startOnFreePort({
    path,
    dir,
    args: (port) => [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=', // one instance: no gossip, no waiting for peers to settle
      '--log.level=debug', // each notification and its answer, for output()
    ],
    ready: (url) =>
      fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    pollMs: 100,
    failure: 'Alertmanager did not become ready',
  });
  return { ...started, configFile };
}

/** One alert as Alertmanager's API v2 (`GET /api/v2/alerts`) lists it. */
export interface AlertmanagerAlert {
  readonly fingerprint: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly generatorURL: string;
  /** When Alertmanager last received it from Prometheus. */
  readonly updatedAt: string;
  readonly status: { readonly state: string };
}

/** The alerts Alertmanager holds now. */
export async function alertmanagerAlerts(url: string): Promise<AlertmanagerAlert[]> {
  const res = await fetch(`${url}/api/v2/alerts`);
  if (!res.ok) throw new Error(`Alertmanager ${url}/api/v2/alerts answered ${res.status}`);
  return (await res.json()) as AlertmanagerAlert[];
}
