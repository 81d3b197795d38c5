import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { isMap, isSeq, parseDocument } from 'yaml';
import { startOnFreePort, type LoopbackProcess } from './loopback-process.js';

/** The operations example's Prometheus configuration and alert rules, which tests render from. */
export const EXAMPLE_PROMETHEUS_CONFIG = resolve('examples/operations/prometheus.yml');
export const EXAMPLE_RULES = resolve('examples/operations/rules.yml');

/**
 * The path of a Debian-packaged binary (`prometheus`, `prometheus-alertmanager`), or undefined when
 * it is not installed: under CI that is an error (`.ci/run` installs them), elsewhere a notice.
 */
export function binary(name: string): string | undefined {
  const found = spawnSync('which', [name], { encoding: 'utf8' }).stdout.trim();
  if (found !== '') return found;
  const message = `${name} is not installed (apt-get install -y prometheus prometheus-alertmanager): the tests that need it are skipped`;
  if (process.env['CI'] === 'true') throw new Error(`${message}, which CI does not allow`);
  console.warn(`NOTICE: ${message}`);
  return undefined;
}

/** `describe` when the binary is there; one skipped test naming it otherwise. */
export function describeWithBinary(
  path: string | undefined,
  title: string,
  body: () => void,
): void {
  if (path !== undefined) describe(title, body);
  else
    describe.skip(title, () => {
      it('needs prometheus (apt-get install -y prometheus prometheus-alertmanager)', () =>
        undefined);
    });
}

/** A running Prometheus: its URL, and a stop that removes its data. */
export type PrometheusProcess = LoopbackProcess;

/** What else Prometheus does besides scraping: rules, alerting, a configuration to start from. */
export interface PrometheusOptions {
  /** Rule files (absolute paths) to evaluate every second (`rule_files`). */
  readonly ruleFiles?: readonly string[];
  /** Alertmanager's URL (`http://host:port`): firing alerts are sent there (`alerting`). */
  readonly alertmanagerUrl?: string;
  /**
   * A configuration to render from (examples/operations/prometheus.yml, say): its one scrape job
   * scrapes `targets`, its intervals become 1 s, its `rule_files` and `alerting` are the options';
   * the rest stays as written.
   */
  readonly template?: string;
}

/**
 * The Prometheus configuration {@link startPrometheus} runs: `targets` scraped every second, rules
 * evaluated every second, alerts sent to `alertmanagerUrl`; from `template` when given.
 */
export function renderPrometheusConfig(
  targets: readonly string[],
  options: PrometheusOptions = {},
): string {
  const doc = parseDocument(
    options.template ?? 'global: {}\nscrape_configs: [{ job_name: service, static_configs: [] }]\n',
  );
  doc.setIn(['global', 'scrape_interval'], '1s');
  doc.setIn(['global', 'evaluation_interval'], '1s');
  const jobs = doc.get('scrape_configs');
  if (!isSeq(jobs) || jobs.items.length !== 1 || !isMap(jobs.items[0]))
    throw new Error('the Prometheus configuration should have one scrape job, for the service');
  jobs.items[0].set('static_configs', doc.createNode([{ targets: [...targets] }]));
  if (options.ruleFiles !== undefined)
    doc.set('rule_files', doc.createNode([...options.ruleFiles]));
  else doc.delete('rule_files');
  if (options.alertmanagerUrl !== undefined) {
    const at = new URL(options.alertmanagerUrl);
    const alertmanager = {
      scheme: at.protocol.slice(0, -1),
      static_configs: [{ targets: [at.host] }],
    };
    doc.set('alerting', doc.createNode({ alertmanagers: [alertmanager] }));
  } else doc.delete('alerting');
  return doc.toString();
}

/**
 * An alert rules file (by default examples/operations/rules.yml) with every alert's `for` set to
 * `forMs` when given; the expressions, labels and annotations as written.
 */
export function renderRules(options: { template?: string; forMs?: number } = {}): string {
  const doc = parseDocument(options.template ?? readFileSync(EXAMPLE_RULES, 'utf8'));
  const groups = doc.get('groups');
  if (!isSeq(groups)) throw new Error('the rules file has no groups');
  let alerts = 0;
  for (const group of groups.items) {
    const rules = isMap(group) ? group.get('rules') : undefined;
    if (!isSeq(rules)) continue;
    for (const rule of rules.items) {
      if (!isMap(rule) || !rule.has('alert')) continue;
      alerts++;
      if (options.forMs !== undefined) rule.set('for', `${Math.round(options.forMs)}ms`);
    }
  }
  if (alerts === 0) throw new Error('the rules file has no alert');
  return doc.toString();
}

/**
 * Starts Prometheus on a free loopback port with a temporary TSDB, scraping `targets` (host:port)
 * every second (evaluating `options.ruleFiles` every second and alerting `options.alertmanagerUrl`
 * when given); resolves once it is ready and has scraped each target up.
 */
export async function startPrometheus(
  path: string,
  targets: readonly string[],
  options: PrometheusOptions = {},
): Promise<PrometheusProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'rampflag-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, renderPrometheusConfig(targets, options));
  return startOnFreePort({
    path,
    dir,
    args: (port) => [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    // ready once every target is scraped up
    ready: async (url) => {
      const up = await fetch(`${url}/api/v1/query?query=up`)
        .then((r) => r.json() as Promise<{ data?: { result?: { value: [number, string] }[] } }>)
        .catch(() => undefined);
      const result = up?.data?.result ?? [];
      return result.length === targets.length && result.every((r) => r.value[1] === '1');
    },
    pollMs: 200,
    failure: `Prometheus did not come up and scrape ${targets.join(', ')}`,
  });
}
