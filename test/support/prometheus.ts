import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'vitest';
import { freePort } from './ports.js';

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
export interface PrometheusProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus on a free loopback port with a temporary TSDB, scraping `targets` (host:port)
 * every second; resolves once it is ready and has scraped each target up.
 */
export async function startPrometheus(
  path: string,
  targets: readonly string[],
): Promise<PrometheusProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'rampflag-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: service',
      `    static_configs: [{ targets: [${targets.map((t) => `"${t}"`).join(', ')}] }]`,
      '',
    ].join('\n'),
  );
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      path,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const up = await fetch(`${url}/api/v1/query?query=up`)
        .then((r) => r.json() as Promise<{ data?: { result?: { value: [number, string] }[] } }>)
        .catch(() => undefined);
      const result = up?.data?.result ?? [];
      if (result.length === targets.length && result.every((r) => r.value[1] === '1'))
        return { url, child, output: () => output, stop };
      await sleep(200);
    }
    if (child.exitCode !== null && attempt < 3 && /address already in use/.test(output)) continue;
    await stop();
    throw new Error(
      `Prometheus did not come up and scrape ${targets.join(', ')}: ${output.slice(-2000)}`,
    );
  }
}
