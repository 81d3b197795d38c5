import { isObject } from '../evaluator/json-path.js';

type Json = Record<string, unknown>;

/**
 * The flag-set metadata keys an incident freeze is kept in, so every reader of the flags (providers'
 * flag-set metadata, `rampflag rollout status`, a controller writing the file) sees it.
 */
export const FREEZE_KEYS = {
  frozen: 'rollout.frozen',
  reason: 'rollout.frozenReason',
  by: 'rollout.frozenBy',
  at: 'rollout.frozenAt',
  until: 'rollout.frozenUntil',
} as const;

/** An incident freeze: no rollout advances while it is on; rollbacks and kills still happen. */
export interface Freeze {
  readonly reason: string;
  /** Who froze: a token's name, an alert's receiver, a person. */
  readonly by: string;
  /** When it began (ms since the epoch). */
  readonly since: number;
  /** When it ends by itself (ms since the epoch); without it, only an unfreeze ends it. */
  readonly until?: number;
}

/**
 * The freeze a configuration's flag-set metadata records, whether or not it has expired; undefined
 * when there is none. Pure.
 */
export function storedFreeze(doc: unknown): Freeze | undefined {
  const metadata = isObject(doc) && isObject(doc['metadata']) ? doc['metadata'] : undefined;
  if (metadata?.[FREEZE_KEYS.frozen] !== true) return undefined;
  const text = (key: string) => (typeof metadata[key] === 'string' ? metadata[key] : '');
  const time = (key: string) => Date.parse(text(key));
  const until = time(FREEZE_KEYS.until);
  return {
    reason: text(FREEZE_KEYS.reason),
    by: text(FREEZE_KEYS.by),
    since: Number.isNaN(time(FREEZE_KEYS.at)) ? 0 : time(FREEZE_KEYS.at),
    ...(Number.isNaN(until) ? {} : { until }),
  };
}

/** The freeze in force at `now` (one past its `until` has ended), or undefined. Pure. */
export function activeFreeze(doc: unknown, now: number): Freeze | undefined {
  const freeze = storedFreeze(doc);
  return freeze !== undefined && isFreezeActive(freeze, now) ? freeze : undefined;
}

/** `doc` with its flag-set metadata recording `freeze`, or with no freeze when it is undefined. */
export function withFreeze(doc: Json, freeze: Freeze | undefined): Json {
  const ours = new Set<string>(Object.values(FREEZE_KEYS));
  const metadata = Object.fromEntries(
    Object.entries(isObject(doc['metadata']) ? doc['metadata'] : {}).filter(([k]) => !ours.has(k)),
  );
  if (freeze !== undefined)
    Object.assign(metadata, {
      [FREEZE_KEYS.frozen]: true,
      [FREEZE_KEYS.reason]: freeze.reason,
      [FREEZE_KEYS.by]: freeze.by,
      [FREEZE_KEYS.at]: new Date(freeze.since).toISOString(),
      ...(freeze.until === undefined
        ? {}
        : { [FREEZE_KEYS.until]: new Date(freeze.until).toISOString() }),
    });
  const { metadata: _old, ...rest } = doc;
  return Object.keys(metadata).length === 0 ? rest : { ...rest, metadata };
}

/** How a freeze reads in a message: "frozen by oncall since … until …: <reason>". */
export function describeFreeze(freeze: Freeze): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const until = freeze.until === undefined ? ' until unfrozen' : ` until ${iso(freeze.until)}`;
  return `rollouts are frozen by ${freeze.by || 'someone'} since ${iso(freeze.since)}${until}${freeze.reason ? `: ${freeze.reason}` : ''}`;
}

/** Whether `freeze` is in force at `now` (it has no `until`, or that is still ahead). */
export function isFreezeActive(freeze: Freeze, now: number): boolean {
  return freeze.until === undefined || now < freeze.until;
}

/** A freeze as the management API and `rampflag rollout status` show it. */
export interface FreezeView {
  readonly frozen: boolean;
  readonly reason?: string;
  readonly by?: string;
  readonly since?: string;
  readonly until?: string;
  /** Recorded, but past its `until`. */
  readonly expired?: boolean;
}

/** The freeze a configuration records, as shown at `now`. Pure. */
export function freezeView(doc: unknown, now: number): FreezeView {
  const freeze = storedFreeze(doc);
  if (freeze === undefined) return { frozen: false };
  const active = isFreezeActive(freeze, now);
  return {
    frozen: active,
    reason: freeze.reason,
    by: freeze.by,
    since: new Date(freeze.since).toISOString(),
    ...(freeze.until === undefined ? {} : { until: new Date(freeze.until).toISOString() }),
    ...(active ? {} : { expired: true }),
  };
}
