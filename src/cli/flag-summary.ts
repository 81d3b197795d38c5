import { isObject, typeName } from '../evaluator/json-path.js';
import { activeFreeze, describeFreeze, storedFreeze, type Freeze } from '../rollout/freeze.js';
import { readRollout, ROLLOUT_KEYS, type StoredRollout } from '../rollout/state.js';
import { safeVariantOf, SAFE_VARIANT_KEY } from '../rollout/transitions.js';
import { cohortsOf } from './cohorts.js';
import { ruleText } from './rule-text.js';

type Json = Record<string, unknown>;

/** A flag's definition and rollout phase, as `rampflag get` shows them. */
export interface FlagSummary {
  readonly flag: string;
  readonly state: unknown;
  /** The variants' value type (`boolean`, `string`, `number`, `object`). */
  readonly type: string;
  readonly variants: Json;
  readonly defaultVariant: string | null;
  readonly targeting: unknown;
  /** The targeting, one line per cohort: `ring in […] → "on"`. */
  readonly rules: readonly string[];
  /** The flag's metadata (with its flag set's), rollout keys apart. */
  readonly metadata: Json;
  readonly rollout: (Omit<StoredRollout, 'since'> & { since: string; safeVariant?: string }) | null;
  /** Why the rollout metadata cannot be read (a hand edit broke it). */
  readonly rolloutError?: string;
  readonly freeze:
    | (Omit<Freeze, 'since' | 'until'> & {
        since: string;
        until?: string;
        active: boolean;
        text: string;
      })
    | null;
}

const ROLLOUT_METADATA = new Set<string>([...Object.values(ROLLOUT_KEYS), SAFE_VARIANT_KEY]);

function rolloutOf(flag: Json): Pick<FlagSummary, 'rollout' | 'rolloutError'> {
  let stored: StoredRollout | undefined;
  try {
    stored = readRollout(flag);
  } catch (error) {
    return { rollout: null, rolloutError: (error as Error).message };
  }
  if (stored === undefined) return { rollout: null };
  const safeVariant = safeVariantOf(flag);
  return {
    rollout: {
      ...stored,
      since: new Date(stored.since).toISOString(),
      ...(safeVariant === undefined ? {} : { safeVariant }),
    },
  };
}

function freezeOf(metadata: Json, now: number): FlagSummary['freeze'] {
  const stored = storedFreeze({ metadata });
  if (stored === undefined) return null;
  const active = activeFreeze({ metadata }, now) !== undefined;
  const { until, ...rest } = stored;
  return {
    ...rest,
    since: new Date(stored.since).toISOString(),
    ...(until === undefined ? {} : { until: new Date(until).toISOString() }),
    active,
    text: active ? describeFreeze(stored) : `${describeFreeze(stored)} (ended)`,
  };
}

/** What `rampflag get` says about a flag's definition and rollout phase, at `now`. Pure. */
export function summarise(key: string, flag: Json, now: number): FlagSummary {
  const variants = isObject(flag['variants']) ? flag['variants'] : {};
  const first = Object.values(variants)[0];
  const metadata = isObject(flag['metadata']) ? flag['metadata'] : {};
  const targeting = flag['targeting'];
  const targeted = isObject(targeting) && Object.keys(targeting).length > 0;
  const cohorts = targeted ? cohortsOf(targeting) : [];
  const fallback = flag['defaultVariant'];
  return {
    flag: key,
    state: flag['state'],
    type: typeName(first),
    variants,
    defaultVariant: typeof fallback === 'string' && fallback !== '' ? fallback : null,
    targeting: targeted ? targeting : null,
    rules:
      cohorts.length === 1
        ? [ruleText(targeting)]
        : cohorts.map(
            (c) => `${c.label} → ${c.result === null ? 'the default' : ruleText(c.result)}`,
          ),
    metadata: Object.fromEntries(
      Object.entries(metadata).filter(
        ([k]) => !ROLLOUT_METADATA.has(k) && !k.startsWith('rollout.frozen'),
      ),
    ),
    ...rolloutOf(flag),
    freeze: freezeOf(metadata, now),
  };
}
