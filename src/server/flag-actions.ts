import type { JsonValue } from '@openfeature/core';
import type { Clock } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { flagIn, replaceFlag } from '../rollout/flag-doc.js';
import {
  freezeView,
  isFreezeActive,
  storedFreeze,
  withFreeze,
  type Freeze,
  type FreezeView,
} from '../rollout/freeze.js';
import { readRollout, ROLLOUT_KEYS, withRollout } from '../rollout/state.js';
import {
  SAFE_VARIANT_KEY,
  safeVariantOf,
  toPausedOrRunning,
  toSafeVariant,
  type FlagChange,
} from '../rollout/transitions.js';
import type { Mutation, Operations } from './operations.js';
import { Refusal } from './refusal.js';

type Json = Record<string, unknown>;

/** What can be done to one flag's rollout through the server. */
export type FlagAction = 'kill' | 'rollback' | 'pause' | 'resume';

/** The answer to a flag action. @internal */
export interface FlagActionResult extends Mutation {
  readonly flag: string;
  readonly action: FlagAction;
  readonly reason: string;
  readonly status: string | undefined;
  readonly safeVariant: string | undefined;
}

/** What flag actions and the freeze need besides {@link Operations}. @internal */
export interface FlagActionDeps {
  readonly operations: Operations;
  /** The source whose definition of a flag is served, if any. */
  sourceOfFlag(key: string): string | undefined;
  /** Whether a source can be written. */
  writable(name: string): boolean;
  /** Every source that can be written, in order. */
  readonly writableSources: readonly string[];
  /** The flag-set document a source stores (for the freeze's state). */
  storedDoc(name: string): Promise<Json | undefined>;
  readonly clock: Clock;
  readonly newId: () => string;
}

/** Who acts and why, for the audit log. @internal */
export interface Actor {
  readonly actor: string;
  readonly reason: string;
  readonly evidence?: JsonValue;
}

/**
 * Kills, rolls back, pauses or resumes flag `key`'s rollout in the source that serves it. The kill
 * switch and a rollback serve the safe variant (`safeVariant`, else the flag's
 * `rollout.safeVariant`) to everyone, idempotently, and go ahead even if the audit log cannot be
 * written. @internal
 */
export async function flagAction(
  deps: FlagActionDeps,
  key: string,
  action: FlagAction,
  who: Actor,
  safeVariant?: string,
  /** Whether the caller may name a safe variant other than the one the flag records (`admin`). */
  mayRenameSafeVariant = false,
): Promise<Refusal | FlagActionResult> {
  const name = deps.sourceOfFlag(key);
  if (name === undefined) return new Refusal(404, `no flag "${key}"`);
  if (!deps.writable(name))
    return new Refusal(409, `flag "${key}" comes from source "${name}", which cannot be written`);
  let status: string | undefined;
  let safe: string | undefined;
  const outcome = await deps.operations.mutate(
    name,
    {
      actor: who.actor,
      action,
      reason: who.reason,
      noChangeFlag: key,
      evenUnaudited: action === 'kill' || action === 'rollback',
      ...(who.evidence === undefined ? {} : { evidence: who.evidence }),
    },
    (doc) => {
      const flag = doc === undefined ? undefined : flagIn(doc, key);
      if (doc === undefined || flag === undefined) return new Refusal(404, `no flag "${key}"`);
      const next =
        action === 'kill' || action === 'rollback'
          ? toSafe(deps, flag, action, safeVariant, mayRenameSafeVariant)
          : toStatus(deps, flag, action);
      if (next instanceof Refusal) return next;
      status = (next?.rollout ?? safely(() => readRollout(flag)))?.status;
      safe = safeVariant ?? safeVariantOf(flag);
      return next === undefined
        ? undefined
        : replaceFlag(doc, key, withRollout(next.flag, next.rollout));
    },
  );
  if (outcome instanceof Refusal) return outcome;
  return { ...outcome, flag: key, action, reason: who.reason, status, safeVariant: safe };
}

/** `flag` without the `rollout.*` keys of a rollout (its safe variant stays). */
function withoutRollout(flag: Json): Json {
  if (!isObject(flag['metadata'])) return flag;
  const ours = new Set<string>(Object.values(ROLLOUT_KEYS));
  const metadata = Object.entries(flag['metadata']).filter(([key]) => !ours.has(key));
  return { ...flag, metadata: Object.fromEntries(metadata) };
}

function toSafe(
  deps: FlagActionDeps,
  flag: Json,
  action: 'kill' | 'rollback',
  given: string | undefined,
  mayRename: boolean,
): FlagChange | undefined | Refusal {
  const recorded = safeVariantOf(flag);
  // otherwise a "kill" could serve the treatment to everyone, past every guardrail and freeze
  if (given !== undefined && recorded !== undefined && given !== recorded && !mayRename)
    return new Refusal(
      403,
      `the flag's safe variant is "${recorded}"; only an "admin" token may name another ("${given}")`,
    );
  const safeVariant = given ?? recorded;
  // the kill switch works whatever a hand edit did to the rollout's metadata: it starts afresh
  if (safely(() => readRollout(flag)) === undefined) flag = withoutRollout(flag);
  if (safeVariant === undefined)
    return new Refusal(
      409,
      `the flag names no safe variant: set its metadata "${SAFE_VARIANT_KEY}" (rollout start does) or send {"safeVariant": "<variant>"}`,
    );
  const variants = isObject(flag['variants']) ? flag['variants'] : {};
  if (!Object.hasOwn(variants, safeVariant))
    return new Refusal(
      409,
      `the safe variant "${safeVariant}" is not one of the flag's variants (${Object.keys(variants).join(', ')})`,
    );
  const change = toSafeVariant(flag, {
    safeVariant,
    status: action === 'kill' ? 'killed' : 'rolled-back',
    now: deps.clock.now(),
    newId: deps.newId,
  });
  if (change === undefined) return undefined;
  const metadata = isObject(change.flag['metadata']) ? change.flag['metadata'] : {};
  return {
    ...change,
    flag: { ...change.flag, metadata: { ...metadata, [SAFE_VARIANT_KEY]: safeVariant } },
  };
}

function toStatus(
  deps: FlagActionDeps,
  flag: Json,
  action: 'pause' | 'resume',
): FlagChange | undefined | Refusal {
  let rollout;
  try {
    rollout = readRollout(flag);
  } catch (error) {
    return new Refusal(409, (error as Error).message);
  }
  if (rollout === undefined) return new Refusal(409, 'the flag has no rollout');
  try {
    const next = toPausedOrRunning(
      rollout,
      action === 'pause' ? 'paused' : 'running',
      deps.clock.now(),
    );
    return next === undefined ? undefined : { flag, rollout: next };
  } catch (error) {
    return new Refusal(409, (error as Error).message);
  }
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The freeze in force, from the first writable source that records one. @internal */
export async function freezeState(deps: FlagActionDeps): Promise<FreezeView> {
  for (const name of deps.writableSources) {
    const view = freezeView(await deps.storedDoc(name), deps.clock.now());
    if (view.reason !== undefined) return view;
  }
  return { frozen: false };
}

/**
 * Freezes every rollout (`until`: when it ends by itself), or ends the freeze (`freeze` undefined),
 * in every writable source. A freeze in force is kept as it is: a repeated freeze changes nothing.
 * @internal
 */
export async function setFreeze(
  deps: FlagActionDeps,
  who: Actor,
  until: number | undefined,
  on: boolean,
): Promise<Refusal | { changed: boolean; state: FreezeView }> {
  if (deps.writableSources.length === 0)
    return new Refusal(409, 'no source can be written, so a freeze cannot be recorded');
  let changed = false;
  for (const name of deps.writableSources) {
    const outcome = await deps.operations.mutate(
      name,
      {
        actor: who.actor,
        action: on ? 'freeze' : 'unfreeze',
        reason: who.reason,
        ...(who.evidence === undefined ? {} : { evidence: who.evidence }),
      },
      (doc) => {
        if (doc === undefined)
          return new Refusal(
            409,
            `source "${name}" holds no configuration to record the freeze in`,
          );
        const now = deps.clock.now();
        const current = storedFreeze(doc);
        if (on && current !== undefined && isFreezeActive(current, now)) return undefined;
        if (!on && current === undefined) return undefined;
        const freeze: Freeze | undefined = on
          ? {
              reason: who.reason,
              by: who.actor,
              since: now,
              ...(until === undefined ? {} : { until }),
            }
          : undefined;
        return withFreeze(doc, freeze);
      },
    );
    if (outcome instanceof Refusal) return outcome;
    changed ||= outcome.changed;
  }
  return { changed, state: await freezeState(deps) };
}
