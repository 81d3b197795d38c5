import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, expect, it } from 'vitest';
import { FlagdProvider } from '../../src/index.js';
import { verifyAudit, type AuditRecord } from '../../src/rollout/audit.js';
import {
  ALERT,
  FLAG,
  SAFE,
  TREATMENT,
  adminGet,
  sendLoad,
  startAlerting,
  startRampflag,
  startService,
  type Alerting,
} from '../support/alert-loop.js';
import { alertmanagerAlerts } from '../support/alertmanager.js';
import { binary, describeWithBinary } from '../support/prometheus.js';
import { clientFor, until } from '../support/provider-events.js';

const prometheusBinary = binary('prometheus');
const alertmanagerBinary = binary('prometheus-alertmanager');
const dir = mkdtempSync(join(tmpdir(), 'rampflag-alerts-e2e-'));
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

interface Flag {
  defaultVariant?: string;
  targeting?: unknown;
  metadata?: Record<string, unknown>;
}

/** Polls `probe` every 100 ms until it answers something defined; fails naming `what`, with `output()`. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms: number,
  output: () => string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms\n${output()}`);
    await sleep(100);
  }
}

describeWithBinary(
  prometheusBinary === undefined ? undefined : alertmanagerBinary,
  'an alert rolls a flag back, with real parts: Prometheus, Alertmanager, rampflag serve',
  () => {
    it('rolls the flag back to its safe variant, tells connected providers, and audits the alert', async () => {
      const rampflag = await startRampflag(dir);
      stops.push(() => rampflag.stop());
      const { sync, http, ofrep } = rampflag.serve.ports;
      const read = rampflag.tokens['dashboards'] as string;

      // an in-process provider on the server's sync port, and a user it serves the treatment
      const provider = new FlagdProvider({
        resolverType: 'in-process',
        host: '127.0.0.1',
        port: sync,
      });
      stops.push(() => provider.onClose());
      const { client, events } = await clientFor(provider);
      let user = '';
      for (let i = 0; user === '' && i < 1000; i++) {
        const details = await client.getBooleanDetails(FLAG, false, { targetingKey: `u-${i}` });
        if (details.variant === TREATMENT) user = `u-${i}`;
      }
      expect(user, 'the example flag serves the treatment to half its users').not.toBe('');

      // the service fails half the treatment's requests; Prometheus and Alertmanager watch it
      const service = await startService(sync, { treatment: 0.5 });
      stops.push(() => service.stop());
      const traffic = sendLoad(service.port);
      stops.push(() => traffic.stop());
      const tokenFile = join(dir, 'alertmanager.token');
      writeFileSync(tokenFile, `${rampflag.tokens['alertmanager']}\n`, { mode: 0o600 });
      const alerting: Alerting = await startAlerting(
        { prometheus: prometheusBinary as string, alertmanager: alertmanagerBinary as string },
        {
          dir,
          servicePort: service.port,
          webhookUrl: `${rampflag.admin}/admin/alerts`,
          tokenFile,
          forMs: 1000,
          groupWaitMs: 1000,
          groupIntervalMs: 1000,
          repeatIntervalMs: 3_600_000,
        },
      );
      stops.push(() => alerting.stop());

      // the flag rolls back: the safe variant for everyone, the rollout ended
      const flag = await waitFor(
        'the rollback',
        async () => {
          const config = await adminGet<{ flags: Record<string, Flag> }>(
            rampflag.admin,
            '/admin/flags',
            read,
          );
          const checkout = config.flags[FLAG];
          return checkout?.defaultVariant === SAFE && checkout.targeting === undefined
            ? checkout
            : undefined;
        },
        40_000,
        alerting.output,
      );
      await traffic.stop();
      expect(['rolled-back', 'killed']).toContain(flag.metadata?.['rollout.status']);
      expect(flag.metadata?.['rollout.percent']).toBe(0);

      // the connected provider was told, and serves the safe variant to the treatment's user
      await until(
        () =>
          events.some(
            ([event, details]) =>
              event === ProviderEvents.ConfigurationChanged &&
              ((details?.flagsChanged as string[] | undefined) ?? []).includes(FLAG),
          ),
        'CONFIGURATION_CHANGED for the flag',
      );
      expect(await client.getBooleanDetails(FLAG, true, { targetingKey: user })).toMatchObject({
        value: false,
        variant: SAFE,
      });

      // the audit log: one change by the alerts token, its evidence naming the alert
      const verified = verifyAudit(readFileSync(rampflag.auditFile, 'utf8'));
      expect(verified.ok, JSON.stringify(verified)).toBe(true);
      if (!verified.ok) return;
      const byAlert = verified.records.filter(
        (r) => r.flag === FLAG && (r.action === 'rollback' || r.action === 'kill') && r.changed,
      );
      expect(byAlert).toHaveLength(1);
      const record = byAlert[0] as AuditRecord;
      const [fired] = (await alertmanagerAlerts(alerting.alertmanager.url)).filter(
        (a) => a.labels['alertname'] === ALERT,
      );
      expect(record).toMatchObject({
        actor: 'alertmanager',
        action: flag.metadata?.['rollout.status'] === 'killed' ? 'kill' : 'rollback',
        evidence: {
          alert: {
            status: 'firing',
            fingerprint: fired?.fingerprint,
            labels: { alertname: ALERT, flag_key: FLAG },
          },
          receiver: 'rampflag',
        },
      });
      // the same instant: Alertmanager's API writes "…33.480Z" where its webhook wrote "…33.48Z"
      const startsAt = (record.evidence as { alert: { startsAt: string } }).alert.startsAt;
      expect(Date.parse(startsAt)).toBe(Date.parse(fired?.startsAt ?? ''));
      expect(record.evidence).toMatchObject({
        alert: { generatorURL: expect.stringContaining('/graph?') as unknown },
        groupKey: expect.stringContaining(`flag_key="${FLAG}"`) as unknown,
      });

      // Alertmanager sending the same alert again (repeat_interval, a retry) changes nothing
      const again = await fetch(`${rampflag.admin}/admin/alerts`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${rampflag.tokens['alertmanager']}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          version: '4',
          status: 'firing',
          receiver: 'rampflag',
          groupKey: (record.evidence as { groupKey: string }).groupKey,
          alerts: [
            {
              status: 'firing',
              labels: fired?.labels,
              annotations: fired?.annotations,
              startsAt: fired?.startsAt,
              endsAt: '0001-01-01T00:00:00Z',
              generatorURL: fired?.generatorURL,
              fingerprint: fired?.fingerprint,
            },
          ],
        }),
      });
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({
        actions: [{ fingerprint: fired?.fingerprint, flag: FLAG, changed: false, duplicate: true }],
      });
      const after = verifyAudit(readFileSync(rampflag.auditFile, 'utf8'));
      expect(after.ok && after.records.filter((r) => r.changed).length).toBe(
        verified.records.filter((r) => r.changed).length,
      );

      // what the README's curl commands show: the audit API, OFREP and the evaluation API
      const audit = await adminGet<{ records: AuditRecord[] }>(
        rampflag.admin,
        `/admin/audit?flag=${FLAG}`,
        read,
      );
      expect(audit.records.map((r) => r.seq)).toContain(record.seq);
      const ofrepAnswer = await fetch(`http://127.0.0.1:${ofrep}/ofrep/v1/evaluate/flags/${FLAG}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ context: { targetingKey: user } }),
      }).then((r) => r.json());
      expect(ofrepAnswer).toMatchObject({ key: FLAG, value: false, variant: SAFE });
      const resolved = await fetch(
        `http://127.0.0.1:${http}/flagd.evaluation.v1.Service/ResolveBoolean`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ flagKey: FLAG, context: { targetingKey: user } }),
        },
      ).then((r) => r.json());
      expect(resolved).toMatchObject({ value: false, variant: SAFE });
    }, 60_000);
  },
);
