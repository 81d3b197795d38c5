import { isObject } from '../evaluator/json-path.js';
import type { RolloutStatus } from './decide.js';
import { readRollout, type StoredRollout } from './state.js';

type Json = Record<string, unknown>;

/**
 * The flag-metadata key naming a flag's safe variant: where a rollback and the kill switch take
 * it. `rollout start` writes it from the plan; set it by hand on a flag that has no rollout.
 */
export const SAFE_VARIANT_KEY = 'rollout.safeVariant';

/** A flag's next form and the rollout its metadata will record. */
export interface FlagChange {
  readonly flag: Json;
  readonly rollout: StoredRollout;
}

/** The safe variant a flag's metadata names, if any. */
export function safeVariantOf(flag: unknown): string | undefined {
  const metadata = isObject(flag) && isObject(flag['metadata']) ? flag['metadata'] : undefined;
  const value = metadata?.[SAFE_VARIANT_KEY];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The kill switch or a rollback: the safe variant served by name to everyone, the targeting gone,
 * the rollout recorded as `status` at 0 %. Undefined when the flag serves the safe variant after a
 * kill or a rollback already, whichever it was (idempotent: a kill after a rollback is a repeat).
 * A flag with no rollout gets a new one, with id `newId()`. Pure.
 */
export function toSafeVariant(
  flag: Json,
  options: {
    readonly safeVariant: string;
    readonly status: Extract<RolloutStatus, 'killed' | 'rolled-back'>;
    readonly now: number;
    readonly newId: () => string;
  },
): FlagChange | undefined {
  const current = readRollout(flag);
  // serving the safe variant after a kill or a rollback already: either one is a repeat
  if (
    (current?.status === 'killed' || current?.status === 'rolled-back') &&
    flag['defaultVariant'] === options.safeVariant &&
    flag['targeting'] === undefined
  )
    return undefined;
  const { targeting: _dropped, ...rest } = flag;
  const { pausedAt: _paused, ...rollout } = current ?? {
    id: options.newId(),
    status: options.status,
    step: 0,
    percent: 0,
    since: options.now,
    auditHead: undefined,
  };
  return {
    flag: { ...rest, defaultVariant: options.safeVariant },
    rollout: { ...rollout, status: options.status, percent: 0 },
  };
}

/**
 * Pausing (`running` → `paused`) or resuming (`paused` → `running`) a rollout; undefined when it is
 * in that state already. A pause does not eat the hold: resuming moves the step's start on by the
 * time paused. Throws a RangeError when the rollout is in neither state. Pure.
 */
export function toPausedOrRunning(
  rollout: StoredRollout,
  to: 'paused' | 'running',
  now: number,
): StoredRollout | undefined {
  if (rollout.status === to) return undefined;
  const from = to === 'paused' ? 'running' : 'paused';
  if (rollout.status !== from)
    throw new RangeError(
      `cannot ${to === 'paused' ? 'pause' : 'resume'} rollout ${rollout.id}: it is ${rollout.status}`,
    );
  const { pausedAt, ...rest } = rollout;
  return to === 'paused'
    ? { ...rest, status: to, pausedAt: now }
    : { ...rest, status: to, since: rest.since + Math.max(0, now - (pausedAt ?? now)) };
}

/**
 * Whether a flag's change moves a rollout forward: starts one, or raises its step or percentage
 * while it runs. What a freeze forbids. A hand edit of a flag with no rollout is not an advance.
 */
export function advancesRollout(before: unknown, after: unknown): boolean {
  const next = safeRollout(after);
  if (next === undefined || next.status !== 'running') return false;
  const previous = safeRollout(before);
  if (previous === undefined || previous.id !== next.id) return true;
  return next.step > previous.step || next.percent > previous.percent;
}

/** A flag's rollout, or undefined when it has none or its metadata is broken. */
function safeRollout(flag: unknown): StoredRollout | undefined {
  try {
    return readRollout(flag);
  } catch {
    return undefined;
  }
}
