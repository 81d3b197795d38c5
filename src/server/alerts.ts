import { createHash } from 'node:crypto';
import type { JsonValue, Logger } from '@openfeature/core';
import { isObject } from '../evaluator/json-path.js';
import { flagIn } from '../rollout/flag-doc.js';
import { readRollout } from '../rollout/state.js';
import { flagAction, setFreeze, type Actor, type FlagActionDeps } from './flag-actions.js';
import { MAX_REASON, oneLine } from './admin-requests.js';
import { Refusal } from './refusal.js';

/** Where the Alertmanager webhook is served, on the management port. @internal */
export const ALERTS_PATH = '/admin/alerts';

/** How alerts act on flags. */
export interface AlertSettings {
  /** Labels naming the flag a firing alert rolls back (the first one present wins). Default `['flag_key']`. */
  readonly flagLabels?: readonly string[];
  /** A label whose presence (non-empty) on a firing alert freezes every rollout. Default `rampflag_freeze`. */
  readonly freezeLabel?: string;
  /** How long an alert's freeze lasts; without it, until an explicit unfreeze. */
  readonly freezeForMs?: number;
}

/** One alert of an Alertmanager webhook (payload version 4). */
export interface Alert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

/** Alertmanager's webhook payload, version 4, as far as rampflag reads it. */
export interface AlertPayload {
  readonly receiver: string;
  readonly groupKey: string;
  readonly externalURL: string;
  readonly alerts: readonly Alert[];
}

/** The most alerts one payload may carry. */
export const MAX_ALERTS = 1000;

const fail = (path: string, message: string): never => {
  throw new RangeError(`${path}: ${message}`);
};

function strings(value: unknown, path: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) return fail(path, 'is not an object of strings');
  for (const [key, v] of Object.entries(value))
    if (typeof v !== 'string') fail(`${path}.${key}`, 'is not a string');
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

const text = (value: unknown, path: string, required = false): string => {
  if (value === undefined && !required) return '';
  return typeof value === 'string' ? value : fail(path, 'is not a string');
};

/** A fingerprint from the labels, for a sender that gives none (as Alertmanager does: labels identify an alert). */
function fingerprintOf(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/**
 * Reads an Alertmanager webhook payload (version 4); throws a RangeError naming the JSON path of
 * the first thing wrong. Pure.
 */
export function parseAlertPayload(value: unknown): AlertPayload {
  if (!isObject(value)) return fail('$', 'is not an Alertmanager webhook payload (an object)');
  if (value['version'] !== '4')
    fail(
      '$.version',
      `is ${JSON.stringify(value['version'])}: only Alertmanager's webhook version "4" is read`,
    );
  const alerts = value['alerts'];
  if (!Array.isArray(alerts)) return fail('$.alerts', 'is not a list');
  if (alerts.length > MAX_ALERTS)
    fail('$.alerts', `has ${alerts.length} alerts, over the limit of ${MAX_ALERTS}`);
  return {
    receiver: text(value['receiver'], '$.receiver'),
    groupKey: text(value['groupKey'], '$.groupKey'),
    externalURL: text(value['externalURL'], '$.externalURL'),
    alerts: alerts.map((alert: unknown, i) => {
      const at = `$.alerts[${i}]`;
      if (!isObject(alert)) return fail(at, 'is not an object');
      const status = alert['status'];
      if (status !== 'firing' && status !== 'resolved')
        fail(`${at}.status`, 'is neither "firing" nor "resolved"');
      const labels = strings(alert['labels'], `${at}.labels`);
      const fingerprint = text(alert['fingerprint'], `${at}.fingerprint`);
      return {
        status: status as Alert['status'],
        labels,
        annotations: strings(alert['annotations'], `${at}.annotations`),
        startsAt: text(alert['startsAt'], `${at}.startsAt`),
        endsAt: text(alert['endsAt'], `${at}.endsAt`),
        generatorURL: text(alert['generatorURL'], `${at}.generatorURL`),
        fingerprint: fingerprint === '' ? fingerprintOf(labels) : fingerprint,
      };
    }),
  };
}

/** What was done about one alert. */
export interface AlertAction {
  readonly fingerprint: string;
  readonly alertname?: string;
  readonly flag?: string;
  readonly action: 'rollback' | 'kill' | 'freeze' | 'none';
  readonly changed: boolean;
  /** Handled already (the same alert, firing since the same time): nothing was done again. */
  readonly duplicate?: boolean;
  readonly reason: string;
  /** Why nothing could be done (an unknown flag, no safe variant). */
  readonly error?: string;
  /** Set when the rollback or kill went ahead without its audit record (the log cannot be written). */
  readonly unaudited?: string;
}

/** What one alert asks for. */
type Task = { kind: 'flag'; flag: string } | { kind: 'freeze' } | { kind: 'none' };

/** Alerts handled already, remembered at most this many. */
const MAX_SEEN = 10_000;

/**
 * Acts on Alertmanager's webhook: a firing alert naming a flag rolls back that flag's rollout (or
 * applies the kill switch when none runs); one carrying the freeze label freezes every rollout. A
 * resolved alert re-enables nothing. Idempotent: an alert handled already (same fingerprint, same
 * start) is answered as a duplicate; a re-sent one on a flag at its safe variant changes nothing.
 * @internal
 */
export class AlertHandler {
  readonly #deps: FlagActionDeps;
  readonly #flagLabels: readonly string[];
  readonly #freezeLabel: string;
  readonly #freezeForMs: number | undefined;
  readonly #logger: Logger;
  readonly #seen = new Set<string>();

  constructor(deps: FlagActionDeps, settings: AlertSettings, logger: Logger) {
    this.#deps = deps;
    this.#flagLabels = settings.flagLabels ?? ['flag_key'];
    this.#freezeLabel = settings.freezeLabel ?? 'rampflag_freeze';
    this.#freezeForMs = settings.freezeForMs;
    this.#logger = logger;
  }

  /** Handles a payload; `failed` when a change could not be made (Alertmanager should retry). */
  async handle(
    actor: string,
    payload: AlertPayload,
  ): Promise<{ actions: AlertAction[]; failed: boolean }> {
    const actions: AlertAction[] = [];
    let failed = false;
    for (const alert of payload.alerts) {
      for (const task of this.#tasks(alert)) {
        try {
          actions.push(await this.#act(actor, payload, alert, task));
        } catch (error) {
          failed = true;
          actions.push({
            ...this.#about(alert, task),
            action: 'none',
            changed: false,
            reason: 'failed',
            error: (error as Error).message,
          });
        }
      }
    }
    failed ||= actions.some((a) => a.error !== undefined && a.reason === 'failed');
    return { actions, failed };
  }

  /** What an alert asks for: a flag's rollback, a freeze, or nothing. */
  #tasks(alert: Alert): Task[] {
    const tasks: Task[] = [];
    const label = this.#flagLabels.find((l) => (alert.labels[l] ?? '') !== '');
    if (label !== undefined) tasks.push({ kind: 'flag', flag: alert.labels[label] as string });
    if ((alert.labels[this.#freezeLabel] ?? '') !== '') tasks.push({ kind: 'freeze' });
    return tasks.length > 0 ? tasks : [{ kind: 'none' }];
  }

  #about(alert: Alert, task: Task) {
    return {
      fingerprint: alert.fingerprint,
      ...(alert.labels['alertname'] === undefined ? {} : { alertname: alert.labels['alertname'] }),
      ...(task.kind === 'flag' ? { flag: task.flag } : {}),
    };
  }

  async #act(actor: string, payload: AlertPayload, alert: Alert, task: Task): Promise<AlertAction> {
    const about = this.#about(alert, task);
    if (task.kind === 'none')
      return {
        ...about,
        action: 'none',
        changed: false,
        reason: `no "${this.#flagLabels.join('" or "')}" or "${this.#freezeLabel}" label: nothing to do`,
      };
    if (alert.status === 'resolved')
      return {
        ...about,
        action: 'none',
        changed: false,
        reason: 'resolved: an alert never re-enables anything; resume or start the rollout by hand',
      };
    // the start as an instant: "…33.48Z" and "…33.480Z" are the same alert
    const since = Date.parse(alert.startsAt);
    const key = `${alert.fingerprint}\u0000${Number.isNaN(since) ? alert.startsAt : since}\u0000${task.kind === 'flag' ? task.flag : '*freeze*'}`;
    if (this.#seen.has(key))
      return {
        ...about,
        action: 'none',
        changed: false,
        duplicate: true,
        reason: 'handled already',
      };
    // remembered from the start, so the same alert sent again meanwhile is a duplicate too;
    // forgotten if it could not be acted on, so Alertmanager's retry is acted on
    this.#remember(key);
    try {
      const action = await this.#change(actor, payload, alert, task);
      if (action.error !== undefined) this.#seen.delete(key);
      return action;
    } catch (error) {
      this.#seen.delete(key);
      throw error;
    }
  }

  async #change(
    actor: string,
    payload: AlertPayload,
    alert: Alert,
    task: Task & { kind: 'flag' | 'freeze' },
  ): Promise<AlertAction> {
    const about = this.#about(alert, task);
    const who: Actor = { actor, reason: reasonOf(alert), evidence: evidenceOf(payload, alert) };
    if (task.kind === 'flag') {
      const kind = (await this.#rolloutRuns(task.flag)) ? 'rollback' : 'kill';
      // a flag serving its safe variant already (killed, or rolled back) is left as it is
      const outcome = await flagAction(this.#deps, task.flag, kind, who);
      if (outcome instanceof Refusal) {
        if (outcome.status >= 500) throw new Error(outcome.error);
        this.#logger.error(
          oneLine(
            `flag server: alert ${about.alertname ?? alert.fingerprint} names flag ${JSON.stringify(task.flag)}, which cannot be rolled back: ${outcome.error}`,
          ),
        );
        return { ...about, action: kind, changed: false, reason: who.reason, error: outcome.error };
      }
      return {
        ...about,
        action: kind,
        changed: outcome.changed,
        reason: who.reason,
        ...(outcome.unaudited === undefined ? {} : { unaudited: outcome.unaudited }),
      };
    } else {
      const until =
        this.#freezeForMs === undefined ? undefined : this.#deps.clock.now() + this.#freezeForMs;
      const outcome = await setFreeze(this.#deps, who, until, true);
      if (outcome instanceof Refusal) {
        if (outcome.status >= 500) throw new Error(outcome.error);
        return {
          ...about,
          action: 'freeze',
          changed: false,
          reason: who.reason,
          error: outcome.error,
        };
      }
      return { ...about, action: 'freeze', changed: outcome.changed, reason: who.reason };
    }
  }

  /** Whether a rollout runs (or is paused) on the flag: then the alert rolls it back, else kills it. */
  async #rolloutRuns(key: string): Promise<boolean> {
    const name = this.#deps.sourceOfFlag(key);
    const doc = name === undefined ? undefined : await this.#deps.storedDoc(name);
    const flag = doc === undefined ? undefined : flagIn(doc, key);
    try {
      const status = readRollout(flag)?.status;
      return status === 'running' || status === 'paused';
    } catch {
      return false;
    }
  }

  #remember(key: string): void {
    this.#seen.add(key);
    if (this.#seen.size > MAX_SEEN) this.#seen.delete(this.#seen.values().next().value as string);
  }
}

/** What an alert says, for the audit record's reason: cut at {@link MAX_REASON} characters (the evidence keeps it all). */
function reasonOf(alert: Alert): string {
  const name = alert.labels['alertname'] ?? alert.fingerprint;
  const summary = alert.annotations['summary'] ?? alert.annotations['description'];
  const reason = `alert ${name} firing${summary ? `: ${summary}` : ''}`;
  return reason.length <= MAX_REASON ? reason : `${reason.slice(0, MAX_REASON - 1)}…`;
}

function evidenceOf(payload: AlertPayload, alert: Alert): JsonValue {
  return {
    alert: {
      fingerprint: alert.fingerprint,
      status: alert.status,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      generatorURL: alert.generatorURL,
    },
    receiver: payload.receiver,
    groupKey: payload.groupKey,
  };
}
