import { isObject } from '../evaluator/json-path.js';
import type { RolloutState, RolloutStatus } from './decide.js';

type Json = Record<string, unknown>;

/** The flag-metadata keys a rollout keeps its state in (ROLLOUT.md), so every reader sees it. */
export const ROLLOUT_KEYS = {
  id: 'rollout.id',
  status: 'rollout.status',
  step: 'rollout.step',
  percent: 'rollout.percent',
  since: 'rollout.since',
  audit: 'rollout.audit',
  /** A fingerprint of the plan the rollout started with: a changed plan is noticed. */
  plan: 'rollout.plan',
  /** When a paused rollout was paused: resuming moves `rollout.since` on by the pause. */
  paused: 'rollout.paused',
} as const;

const STATUSES: readonly RolloutStatus[] = [
  'running',
  'paused',
  'completed',
  'rolled-back',
  'killed',
];

/** A rollout's state as its flag's metadata holds it, with the audit chain's head. */
export interface StoredRollout extends RolloutState {
  /** `rollout.percent`: the share of bucketed users on the treatment now. */
  readonly percent: number;
  /** `rollout.audit`: the hash of the last audit record, so a removed last line is noticed. */
  readonly auditHead: string | undefined;
  /** `rollout.plan`: the fingerprint of the plan it started with. */
  readonly planHash?: string;
  /** `rollout.paused`: when it was paused (ms since the epoch), while it is. */
  readonly pausedAt?: number;
}

/**
 * The rollout recorded in a flag's metadata, or undefined when it has none; throws a RangeError
 * naming the key when the metadata is there but broken (a hand edit), so nothing acts on it.
 */
export function readRollout(flag: unknown): StoredRollout | undefined {
  const metadata = isObject(flag) && isObject(flag['metadata']) ? flag['metadata'] : undefined;
  if (metadata === undefined || metadata[ROLLOUT_KEYS.id] === undefined) return undefined;
  const field = (key: string, ok: (v: unknown) => boolean, what: string) => {
    const value = metadata[key];
    if (!ok(value))
      throw new RangeError(`flag metadata "${key}" is ${JSON.stringify(value)}, not ${what}`);
    return value;
  };
  const id = field(
    ROLLOUT_KEYS.id,
    (v) => typeof v === 'string' && v !== '',
    'a rollout id',
  ) as string;
  const status = field(
    ROLLOUT_KEYS.status,
    (v) => STATUSES.includes(v as RolloutStatus),
    STATUSES.join(' | '),
  ) as RolloutStatus;
  const step = field(
    ROLLOUT_KEYS.step,
    (v) => Number.isInteger(v) && (v as number) >= 0,
    'a step index',
  ) as number;
  const percent = field(
    ROLLOUT_KEYS.percent,
    (v) => typeof v === 'number' && v >= 0 && v <= 100,
    'a percentage',
  ) as number;
  const sinceText = field(
    ROLLOUT_KEYS.since,
    (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
    'an ISO time',
  ) as string;
  const audit = metadata[ROLLOUT_KEYS.audit];
  const plan = metadata[ROLLOUT_KEYS.plan];
  const paused = metadata[ROLLOUT_KEYS.paused];
  const pausedAt = typeof paused === 'string' ? Date.parse(paused) : Number.NaN;
  return {
    id,
    status,
    step,
    percent,
    since: Date.parse(sinceText),
    auditHead: typeof audit === 'string' ? audit : undefined,
    ...(typeof plan === 'string' ? { planHash: plan } : {}),
    ...(Number.isNaN(pausedAt) ? {} : { pausedAt }),
  };
}

/** `flag` with its metadata recording `rollout` (other metadata kept, stale rollout keys dropped). */
export function withRollout(flag: Json, rollout: StoredRollout): Json {
  const metadata = isObject(flag['metadata']) ? flag['metadata'] : {};
  const ours = new Set<string>(Object.values(ROLLOUT_KEYS));
  const kept = Object.fromEntries(Object.entries(metadata).filter(([key]) => !ours.has(key)));
  return {
    ...flag,
    metadata: {
      ...kept,
      [ROLLOUT_KEYS.id]: rollout.id,
      [ROLLOUT_KEYS.status]: rollout.status,
      [ROLLOUT_KEYS.step]: rollout.step,
      [ROLLOUT_KEYS.percent]: rollout.percent,
      [ROLLOUT_KEYS.since]: new Date(rollout.since).toISOString(),
      ...(rollout.auditHead === undefined ? {} : { [ROLLOUT_KEYS.audit]: rollout.auditHead }),
      ...(rollout.planHash === undefined ? {} : { [ROLLOUT_KEYS.plan]: rollout.planHash }),
      ...(rollout.pausedAt === undefined
        ? {}
        : { [ROLLOUT_KEYS.paused]: new Date(rollout.pausedAt).toISOString() }),
    },
  };
}
