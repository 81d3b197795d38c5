import { childPath, isObject } from '../evaluator/json-path.js';
import { describeFreeze, storedFreeze } from '../rollout/freeze.js';
import { readRollout } from '../rollout/state.js';
import { mergeInputs, type FlagInput } from './flag-input.js';

type Json = Record<string, unknown>;

/** One difference inside a flag: its JSON path in the flag, and each side's value (undefined: absent). */
export interface FieldDiff {
  readonly path: string;
  readonly files: unknown;
  readonly server: unknown;
}

/** How one flag differs between the files and the server. */
export interface FlagDrift {
  readonly flag: string;
  /** `missing`: in the files, not served; `extra`: served, not in the files. */
  readonly kind: 'missing' | 'extra' | 'changed';
  /** For `changed`: what differs, by path in the flag. */
  readonly diffs: readonly FieldDiff[];
  /** The rollout the server's flag records, as "rollout r1 running at 25 %", if any. */
  readonly rollout?: string;
}

/** Every flag that differs, and what `--ignore-rollout-state` accepted. */
export interface DriftReport {
  readonly fileFlags: number;
  readonly serverFlags: number;
  readonly drift: readonly FlagDrift[];
  /** Differences left out as rollout state (only with `ignoreRolloutState`). */
  readonly ignored: readonly FlagDrift[];
  /** The incident freeze the server's flags carry, described, if any. */
  readonly freeze?: string;
}

/** At most this many differences are listed per flag. */
export const MAX_DIFFS_PER_FLAG = 20;

/**
 * The flags a set of inputs serves, by key, normalised as `rampflag serve` merges several sources
 * ({@link mergeInputs}), so that a single file, several files, `FetchAllFlags` and the management
 * API's stored file all come out in the same form. Throws naming the input that cannot be read.
 */
export function servedFlags(inputs: readonly FlagInput[]): Map<string, Json> {
  const doc = JSON.parse(mergeInputs(inputs)) as { flags: Record<string, Json> };
  return new Map(Object.entries(doc.flags));
}

const isRolloutKey = (key: string) => key.startsWith('rollout.');

/**
 * A flag as its meaning compares: an empty `targeting` is none (flagd reads it so), no metadata is
 * an empty one (so a difference is named by its key), and with `ignoreRollout` the `rollout.*`
 * metadata keys (a rollout's state and the freeze) are left out.
 */
function canonical(flag: Json, ignoreRollout: boolean): Json {
  const out: Json = { ...flag };
  if (isObject(out['targeting']) && Object.keys(out['targeting']).length === 0)
    delete out['targeting'];
  const metadata = out['metadata'] ?? {};
  if (isObject(metadata))
    out['metadata'] = Object.fromEntries(
      Object.entries(metadata).filter(([k]) => !ignoreRollout || !isRolloutKey(k)),
    );
  return out;
}

/**
 * Where `a` and `b` differ, as paths under `path`: objects key by key (their order ignored),
 * arrays item by item when they have the same length (order matters: a bucket list's order is
 * its meaning), anything else as a whole. Appends at most `room` more to `out`.
 */
export function jsonDiffs(a: unknown, b: unknown, path: string, out: FieldDiff[], room: number) {
  if (out.length >= room) return;
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) jsonDiffs(a[key], b[key], childPath(path, key), out, room);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item, i) => jsonDiffs(item, b[i], childPath(path, i), out, room));
    return;
  }
  if (!sameJson(a, b))
    out.push({ path: path === '' ? '(the whole flag)' : path, files: a, server: b });
}

/** Whether two JSON values mean the same: deep equality, key order aside. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}

/** "rollout r1 running at 25 %" for a flag whose metadata records a rollout; undefined otherwise. */
export function rolloutNote(flag: Json | undefined): string | undefined {
  try {
    const rollout = readRollout(flag);
    return rollout && `rollout ${rollout.id} ${rollout.status} at ${rollout.percent} %`;
  } catch (error) {
    return `broken rollout metadata (${(error as Error).message})`;
  }
}

/** The fields a running rollout, a rollback or the kill switch write: where traffic goes. */
const ROLLOUT_OWNED = ['targeting', 'defaultVariant'];

/** One flag both sides have: what differs, and what of it is rollout state when ignored. */
function compareFlag(key: string, git: Json, served: Json, ignoreRollout: boolean) {
  const hasRollout =
    ignoreRollout && (rolloutNote(served) !== undefined || rolloutNote(git) !== undefined);
  const [a, b] = [canonical(git, ignoreRollout), canonical(served, ignoreRollout)];
  const owned: FieldDiff[] = [];
  if (hasRollout)
    for (const field of ROLLOUT_OWNED) {
      if (!sameJson(a[field], b[field]))
        owned.push({ path: field, files: a[field], server: b[field] });
      delete a[field];
      delete b[field];
    }
  const diffs: FieldDiff[] = [];
  jsonDiffs(a, b, '', diffs, MAX_DIFFS_PER_FLAG);
  const note = rolloutNote(served);
  const extra = note === undefined ? {} : { rollout: note };
  return {
    drift: diffs.length > 0 ? { flag: key, kind: 'changed' as const, diffs, ...extra } : undefined,
    ignored:
      owned.length > 0
        ? { flag: key, kind: 'changed' as const, diffs: owned, ...extra }
        : undefined,
  };
}

/**
 * What differs between the flags the files hold (`git`) and those the server serves, flag by flag
 * and by meaning (key order, formatting, YAML or JSON aside). With `ignoreRolloutState`, the
 * `rollout.*` metadata keys (a rollout's state, `rollout.safeVariant`, the freeze) are left out
 * everywhere, and so are `targeting` and `defaultVariant` of a flag that records a rollout on
 * either side: what a running rollout, a rollback and the kill switch change. Those are reported
 * in `ignored`. Pure.
 */
export function compareFlags(
  git: ReadonlyMap<string, Json>,
  served: ReadonlyMap<string, Json>,
  options: { readonly ignoreRolloutState: boolean },
): DriftReport {
  const drift: FlagDrift[] = [];
  const ignored: FlagDrift[] = [];
  const keys = [...new Set([...git.keys(), ...served.keys()])].sort();
  for (const key of keys) {
    const [a, b] = [git.get(key), served.get(key)];
    if (b === undefined) drift.push({ flag: key, kind: 'missing', diffs: [] });
    else if (a === undefined) drift.push({ flag: key, kind: 'extra', diffs: [] });
    else {
      const found = compareFlag(key, a, b, options.ignoreRolloutState);
      if (found.drift) drift.push(found.drift);
      if (found.ignored) ignored.push(found.ignored);
    }
  }
  const freeze = servedFreeze(served);
  return {
    fileFlags: git.size,
    serverFlags: served.size,
    drift,
    ignored,
    ...(freeze === undefined ? {} : { freeze }),
  };
}

/** The freeze (flag-set metadata `rollout.frozen`, carried by each flag once merged), described. */
function servedFreeze(served: ReadonlyMap<string, Json>): string | undefined {
  for (const flag of served.values()) {
    const freeze = storedFreeze({ metadata: flag['metadata'] });
    if (freeze !== undefined) return describeFreeze(freeze);
  }
  return undefined;
}
