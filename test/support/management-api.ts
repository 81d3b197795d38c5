import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFlagSource } from 'rampflag';
import type { FlagServerOptions } from 'rampflag/server';
import { AuditLog, verifyAudit, type AuditRecord } from '../../src/rollout/audit.js';
import { scratchDir, stopOnce, stopsAfterEach } from './scratch.js';
import { serverOnFreePorts } from './test-server.js';

/**
 * A FlagServer on free loopback ports over a flag file of its own, with role tokens and an audit
 * log, for the management API's suites (operations, security, `rampflag rollout --admin`): every
 * request is real HTTP, every check reads the file and the log as they are on disk.
 */

const { dir } = scratchDir('management-api');
const stops = stopsAfterEach();

export const TOKENS = {
  reader: 'read-token-0123456789abcdef',
  release: 'rollout-token-0123456789abcdef',
  oncall: 'admin-token-0123456789abcdef',
  alertmanager: 'alerts-token-0123456789abcdef',
} as const;
export type TokenName = keyof typeof TOKENS;

export const GRANTS: NonNullable<FlagServerOptions['tokens']> = [
  { name: 'reader', token: TOKENS.reader, roles: ['read'] },
  { name: 'release', token: TOKENS.release, roles: ['rollout'] },
  { name: 'oncall', token: TOKENS.oncall, roles: ['admin'] },
  { name: 'alertmanager', token: TOKENS.alertmanager, roles: ['alerts'] },
];

const fractional = (on: number) => ({
  fractional: [
    ['on', on * 10],
    ['off', 1000 - on * 10],
  ],
});

/** A flag mid-rollout at `percent` %, step `step`, safe variant `off`; its rollout is `r-<status>`. */
export const rolling = (status = 'running', step = 1, percent = 10) => ({
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  targeting: fractional(percent),
  metadata: {
    'rollout.id': `r-${status}`,
    'rollout.status': status,
    'rollout.step': step,
    'rollout.percent': percent,
    'rollout.since': '2026-11-29T10:00:00.000Z',
    'rollout.safeVariant': 'off',
  },
});

/** A flag with no rollout. */
export const BANNER = { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'a' };

export const FLAGS = { checkout: rolling(), search: rolling('paused'), banner: BANNER };

/** A PATCH that advances checkout's rollout to step 2, 25 %: what a freeze forbids. */
export const ADVANCE = {
  flags: {
    checkout: {
      targeting: fractional(25),
      metadata: { 'rollout.step': 2, 'rollout.percent': 25 },
    },
  },
};

/** A change a `rollout` token may make: only checkout's traffic moves (down, so no advance). */
export const TRAFFIC_PATCH = { flags: { checkout: { targeting: fractional(5) } } };

/** An Alertmanager webhook (version 4) carrying `alerts`. */
export const webhook = (...alerts: object[]) => ({
  version: '4',
  groupKey: '{}:{alertname="CheckoutErrors"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'rampflag',
  groupLabels: { alertname: 'CheckoutErrors' },
  commonLabels: {},
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  alerts,
});

/** One alert of a webhook. */
export const alert = (
  labels: Record<string, string>,
  { status = 'firing', fingerprint = 'f1', startsAt = '2026-11-29T10:05:00Z' } = {},
) => ({
  status,
  labels: { alertname: 'CheckoutErrors', ...labels },
  annotations: { summary: 'checkout errors over the SLO' },
  startsAt,
  endsAt: status === 'resolved' ? '2026-11-29T10:15:00Z' : '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus/graph',
  fingerprint,
});

/** Alertmanager's webhook: an alert on the checkout flag fires. */
export const CHECKOUT_ALERT = webhook(alert({ flag_key: 'checkout' }));

/** How a request authenticates: a token's name, or a raw `Authorization` header value. */
export type Auth = TokenName | { readonly header: string } | undefined;

let count = 0;

/** A fresh flag file (and the path of an audit log beside it) in the suite's directory. */
export function freshFiles(flags: object = FLAGS): { file: string; auditPath: string } {
  const n = count++;
  const file = join(dir, `flags-${n}.json`);
  writeFileSync(file, JSON.stringify({ flags }, null, 2));
  return { file, auditPath: join(dir, `audit-${n}.jsonl`) };
}

/** A directory where an audit log's file should be: appending to it fails, even as root. */
export function unwritableAuditPath(): string {
  const path = join(dir, `audit-dir-${count++}`);
  mkdirSync(path);
  return path;
}

/** JSON as the assertions read it: any field at any depth. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers and files, read by assertions
export type Loose = any;

export interface Secured {
  readonly syncPort: number;
  readonly httpPort: number;
  readonly managementPort: number;
  readonly file: string;
  readonly auditPath: string;
  /** One request; the body is JSON-encoded unless it is a string already. */
  call(
    method: string,
    path: string,
    auth: Auth,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; text: string; body: Loose; headers: Headers }>;
  /** The flag file and the audit log, byte for byte ('' for a log not yet written). */
  bytes(): { file: string; audit: string };
  /** The flags as stored in the file. */
  stored(): Record<string, Record<string, Loose>>;
  /** The flag-set metadata as stored in the file. */
  metadata(): Record<string, unknown> | undefined;
  /** The audit log's records (verified). */
  records(): readonly AuditRecord[];
  stop(): Promise<void>;
}

/**
 * Starts a server with the role tokens, an audit log and a file source; `options` may override
 * anything (`tokens: []` for a loopback server without tokens).
 */
export async function secured(
  options: Partial<FlagServerOptions> = {},
  files = freshFiles(),
): Promise<Secured> {
  const { file, auditPath } = files;
  const server = serverOnFreePorts({
    source: new FileFlagSource(file),
    tokens: GRANTS,
    audit: new AuditLog(auditPath, { sync: false }),
    ofrepPort: null,
    ...options,
  });
  const ports = await server.start();
  const stop = stopOnce(() => server.stop());
  stops.push(stop);
  const managementPort = ports.managementPort as number;
  const readText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  return {
    syncPort: ports.syncPort,
    httpPort: ports.httpPort,
    managementPort,
    file,
    auditPath,
    async call(method, path, auth, body, headers = {}) {
      const authorization =
        auth === undefined
          ? {}
          : { Authorization: typeof auth === 'string' ? `Bearer ${TOKENS[auth]}` : auth.header };
      const res = await fetch(`http://127.0.0.1:${managementPort}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...authorization, ...headers },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, text, body: parsed, headers: res.headers };
    },
    bytes: () => ({ file: readFileSync(file, 'utf8'), audit: readText(auditPath) }),
    stored: () =>
      (JSON.parse(readFileSync(file, 'utf8')) as { flags: Record<string, Loose> }).flags,
    metadata: () =>
      (JSON.parse(readFileSync(file, 'utf8')) as { metadata?: Record<string, unknown> }).metadata,
    records() {
      const verified = verifyAudit(readText(auditPath));
      if (!verified.ok) throw new Error(verified.problem);
      return verified.records;
    },
    stop,
  };
}
