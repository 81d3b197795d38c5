import type { EvaluationContext, TrackingEventDetails } from '@openfeature/core';
import { murmur3 } from '../evaluator/murmur3.js';
import type { ExperimentAssignments, ExperimentTracking } from '../provider/config.js';
import { experimentCounters, type CounterMeter } from './metrics.js';
import { servedVariants } from './served-variants.js';
import { FlagTally, type TrackingTotals } from './tracking-tally.js';

export type { TrackingTotals } from './tracking-tally.js';

/** Options of {@link createTrackingRecorder}. */
export interface TrackingRecorderOptions {
  /**
   * Where the experiment metrics go: an OpenTelemetry `Meter`, e.g.
   * `metrics.getMeter('rampflag')` from `@opentelemetry/api`. Without one the counts are kept in
   * process only (read them with {@link TrackingRecorder.totals}).
   */
  readonly meter?: CounterMeter;
  /**
   * The most distinct users each flag's exposures hold, and its converters (all events together)
   * as many again; past it the flag's user counts stop growing and its totals say `overflowed`.
   * Users are held as 32-bit hashes in tables at most half full: 8 to 16 bytes a user, 24 to 48
   * with a value total, so at most about 64 MiB per flag at the default. Default 1,000,000.
   */
  readonly maxUsersPerFlag?: number;
  /** The only event names recorded; others are dropped. Default: any, up to `maxEvents`. */
  readonly events?: readonly string[];
  /** The most distinct event names recorded (metric labels stay few); later ones are dropped. Default 32. */
  readonly maxEvents?: number;
  /**
   * The current request's scope, so that an event tracked while a request is served counts for the
   * variants that request was actually served: pass `currentFlagScope` from `rampflag/otel` and
   * serve requests inside `withFlagVariants` (or `flagVariantsMiddleware`, or an outcome
   * recorder's `wrap`). Without it every event is attributed by recomputing its variants.
   */
  readonly requestScope?: () => object | undefined;
}

/** What the recorder received and could not count. */
export interface TrackingDiagnostics {
  /** Events received and recorded (not dropped). */
  readonly events: number;
  /** Recorded events that no experiment flag assigned a variant, so that count for none. */
  readonly unattributed: number;
  /** Events dropped: a name not in `events`, past `maxEvents`, or not a string of 1 to 64 characters. */
  readonly dropped: number;
  /**
   * Values ignored because they were not a finite number ≥ 0, or would make a sum of values or of
   * squares overflow (their events still count).
   */
  readonly ignoredValues: number;
}

/**
 * Counts experiments: the provider's exposures and tracked events, per experiment flag and variant
 * (see {@link createTrackingRecorder}). Give it to the provider as its `tracking` option.
 */
export interface TrackingRecorder extends ExperimentTracking {
  /** One flag's counts, in the shape experiment analysis reads; `control` defaults to the first variant by name. */
  totals(flagKey: string, control?: string): TrackingTotals;
  /** The flags with counts. */
  flags(): string[];
  diagnostics(): TrackingDiagnostics;
}

const DEFAULT_MAX_USERS = 1_000_000;
const DEFAULT_MAX_EVENTS = 32;
const MAX_EVENT_NAME = 64;
/** The seed of the user hash: not 0, so it is not the hash that buckets users into variants. */
const USER_SEED = 0x2f0d_9a51;

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, not ${String(value)}`);
  return value;
}

/**
 * Whether an event name is recorded: a string of 1 to 64 characters, in the allowlist when there is
 * one, else among the first `max` names seen.
 */
function eventNames(allowlist: readonly string[] | undefined, max: number) {
  const allowed = allowlist === undefined ? undefined : new Set(allowlist);
  const seen = new Set<string>();
  return (name: unknown): name is string => {
    if (typeof name !== 'string' || name === '' || name.length > MAX_EVENT_NAME) return false;
    if (allowed !== undefined) return allowed.has(name);
    if (seen.has(name)) return true;
    if (seen.size >= max) return false;
    seen.add(name);
    return true;
  };
}

/** The 32-bit hash of the context's targeting key, or undefined without one. */
function userOf(context: EvaluationContext | undefined): number | undefined {
  const key = context?.targetingKey;
  return typeof key === 'string' && key !== '' ? murmur3(key, '', USER_SEED) : undefined;
}

/**
 * Creates the recorder of experiment exposures and events. With a provider's `tracking` option set
 * to it, every evaluation of an experiment flag whose targeting assigns a variant (reason
 * TARGETING_MATCH) is an exposure of the context's targeting key to that variant, and every
 * `client.track(event, context, { value })` counts for the variant of each experiment flag:
 * the one the request was served when a request scope is open and evaluated the flag for the same
 * targeting key, else the one the flag's targeting assigns the tracked context now (intention to
 * treat, by assignment; the user is then among the variant's exposures too, evaluated here or
 * not, so converters never outnumber users). Per flag, variant and event it counts events,
 * converters (distinct users with an event), and each user's value total (sum and sum of squares over users), and exports
 * them as the counters of {@link EXPERIMENT_METRICS}. Events without a targeting key count as
 * events only. It never throws.
 *
 * @example
 * import { metrics } from '@opentelemetry/api';
 * import { currentFlagScope } from 'rampflag/otel';
 * const tracking = createTrackingRecorder({ meter: metrics.getMeter('rampflag'), requestScope: currentFlagScope });
 * await OpenFeature.setProviderAndWait(new FlagdProvider({ source, tracking }));
 * OpenFeature.getClient().track('purchase', { targetingKey: 'user-42' }, { value: 42 });
 * const data = tracking.totals('new-checkout', 'off');
 */
export function createTrackingRecorder(options: TrackingRecorderOptions = {}): TrackingRecorder {
  const maxUsers = positiveInteger(options.maxUsersPerFlag ?? DEFAULT_MAX_USERS, 'maxUsersPerFlag');
  const maxEvents = positiveInteger(options.maxEvents ?? DEFAULT_MAX_EVENTS, 'maxEvents');
  const counters = experimentCounters(options.meter);
  const accepts = eventNames(options.events, maxEvents);
  const served = servedVariants(options.requestScope);
  const tallies = new Map<string, FlagTally>();
  const counts = { events: 0, unattributed: 0, dropped: 0, ignoredValues: 0 };

  const tally = (flagKey: string): FlagTally => {
    let found = tallies.get(flagKey);
    if (found === undefined)
      tallies.set(flagKey, (found = new FlagTally(flagKey, maxUsers, counters)));
    return found;
  };
  const valueOf = (details: TrackingEventDetails | undefined): number | undefined => {
    const value: unknown = details?.value;
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    counts.ignoredValues++;
    return undefined;
  };

  const exposure = (flagKey: string, variant: string, context: EvaluationContext): void => {
    try {
      const user = userOf(context);
      served.note(flagKey, variant, user);
      if (user !== undefined) tally(flagKey).expose(variant, user);
    } catch {
      // counting must never break an evaluation
    }
  };

  const event = (
    eventName: string,
    context: EvaluationContext,
    details: TrackingEventDetails,
    experiments: ExperimentAssignments,
  ): void => {
    try {
      if (!accepts(eventName)) {
        counts.dropped++;
        return;
      }
      counts.events++;
      const user = userOf(context);
      const value = valueOf(details);
      const inScope = served.current();
      let attributed = false;
      let refused = false;
      for (const flagKey of experiments.flags) {
        const seen = inScope?.get(flagKey);
        const variant =
          seen !== undefined && seen.user === user ? seen.variant : experiments.assign(flagKey);
        if (variant === undefined) continue;
        if (!tally(flagKey).event(variant, eventName, user, value)) refused = true;
        attributed = true;
      }
      if (!attributed) counts.unattributed++;
      if (refused) counts.ignoredValues++;
    } catch {
      // nor an application's tracking call
    }
  };

  return {
    exposure,
    event,
    totals: (flagKey, control) =>
      tallies.get(flagKey)?.totals(control) ?? {
        flag: flagKey,
        control: control ?? '',
        metrics: [],
        assignment: {},
        overflowed: false,
        events: {},
      },
    flags: () => [...tallies.keys()].sort(),
    diagnostics: () => ({ ...counts }),
  };
}
