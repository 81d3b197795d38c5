import { TelemetryAttribute, type EvaluationContext } from '@openfeature/core';
import { metrics, type Meter } from '@opentelemetry/api';
import { currentFlagScope, runInFlagScope } from './request-scope.js';

/** Options of {@link createOutcomeRecorder}. */
export interface OutcomeRecorderOptions {
  /** Default: the global meter provider's `rampflag` meter. */
  readonly meter?: Meter;
  /**
   * The evaluation-context attribute whose value labels each request's cohort (`rampflag.cohort`),
   * e.g. `ring`: a rollout then tells ring users (who get the treatment by name) from bucketed ones.
   * Requests without it are `none`. Unset: no cohort label.
   */
  readonly cohortAttribute?: string;
  /** Distinct cohort values kept per recorder; later ones, and values over 64 characters, are `other`. Default 16. */
  readonly maxCohorts?: number;
  /** The duration bounds (ms) the in-process totals count requests at or below. Default OpenTelemetry's histogram bounds. */
  readonly slowBoundsMs?: readonly number[];
}

/** The names of the per-variant request metrics that rollout guardrails read. */
export const OUTCOME_METRICS = {
  duration: 'rampflag.request.duration',
  requests: 'rampflag.requests',
  failures: 'rampflag.request.failures',
} as const;

/** The attribute that carries a request's cohort (see {@link OutcomeRecorderOptions.cohortAttribute}). */
export const COHORT_ATTRIBUTE = 'rampflag.cohort';

/** One flag's cumulative request counts per variant and cohort, as the recorder has seen them. */
export interface OutcomeSeries {
  readonly variant: string;
  readonly cohort: string;
  readonly requests: number;
  readonly failures: number;
  /** Requests at or below each bound in ms. */
  readonly atOrBelow: Readonly<Record<number, number>>;
}

/** Records how requests went, per flag variant. */
export interface OutcomeRecorder {
  /**
   * Records one request that evaluated `variants` (flag key → variant), each evaluated with the
   * context in `contexts` when given (for the cohort label).
   */
  record(
    variants: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
    durationMs: number,
    ok: boolean,
    contexts?: ReadonlyMap<string, EvaluationContext>,
  ): void;
  /**
   * Wraps a `node:http` handler: the request runs in a flag scope, and when the response finishes
   * its duration and success (status below 500) are recorded for every variant it evaluated.
   * Works with or without an OpenTelemetry context manager; the span hook must be registered (it
   * is what notes each variant).
   */
  wrap<Req, Res extends { statusCode: number; once(event: 'finish', fn: () => void): unknown }>(
    handler: (req: Req, res: Res) => unknown,
  ): (req: Req, res: Res) => unknown;
  /** The cumulative counts of one flag, per variant and cohort: what an in-process rollout reads. */
  totals(flagKey: string): readonly OutcomeSeries[];
}

/** OpenTelemetry's default explicit histogram bounds, less 0. */
const DEFAULT_BOUNDS = [5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

interface Tally {
  requests: number;
  failures: number;
  readonly atOrBelow: number[];
}

/**
 * Per-variant request outcomes: a duration histogram (milliseconds) and request and failure
 * counters, each with `feature_flag.key` and `feature_flag.result.variant` (and `rampflag.cohort`
 * when a cohort attribute is named). The per-variant signal a rollout compares against its baseline.
 * The same counts are kept in process for {@link OutcomeRecorder.totals}. It never throws.
 */
export function createOutcomeRecorder(options: OutcomeRecorderOptions = {}): OutcomeRecorder {
  const meter = options.meter ?? metrics.getMeter('rampflag');
  const duration = meter.createHistogram(OUTCOME_METRICS.duration, {
    description: 'Request duration, per flag variant evaluated during the request',
    unit: 'ms',
  });
  const requests = meter.createCounter(OUTCOME_METRICS.requests, {
    description: 'Requests, per flag variant',
    unit: '{request}',
  });
  const failures = meter.createCounter(OUTCOME_METRICS.failures, {
    description: 'Failed requests, per flag variant',
    unit: '{request}',
  });
  const { cohortAttribute } = options;
  const maxCohorts = options.maxCohorts ?? 16;
  const bounds = [...(options.slowBoundsMs ?? DEFAULT_BOUNDS)].sort((a, b) => a - b);
  const cohortsSeen = new Set<string>();
  /** flag key → `${variant}\u0000${cohort}` → counts */
  const tallies = new Map<string, Map<string, Tally>>();

  const cohortOf = (evaluation: EvaluationContext | undefined): string => {
    const value = cohortAttribute === undefined ? undefined : evaluation?.[cohortAttribute];
    if (typeof value !== 'string' && typeof value !== 'number') return 'none';
    const text = String(value);
    if (text.length > 64) return 'other';
    if (!cohortsSeen.has(text)) {
      if (cohortsSeen.size >= maxCohorts) return 'other';
      cohortsSeen.add(text);
    }
    return text;
  };

  const tally = (key: string, variant: string, cohort: string, ms: number, ok: boolean) => {
    let byFlag = tallies.get(key);
    if (byFlag === undefined) tallies.set(key, (byFlag = new Map()));
    const id = `${variant}\u0000${cohort}`;
    let counts = byFlag.get(id);
    if (counts === undefined)
      byFlag.set(id, (counts = { requests: 0, failures: 0, atOrBelow: bounds.map(() => 0) }));
    counts.requests++;
    if (!ok) counts.failures++;
    for (let i = bounds.length - 1; i >= 0 && ms <= (bounds[i] as number); i--)
      counts.atOrBelow[i] = (counts.atOrBelow[i] as number) + 1;
  };

  const record: OutcomeRecorder['record'] = (variants, durationMs, ok, contexts) => {
    try {
      const entries = variants instanceof Map ? [...variants] : Object.entries(variants);
      for (const [key, variant] of entries) {
        const cohort = cohortOf(contexts?.get(key));
        const attributes = {
          [TelemetryAttribute.KEY]: key,
          [TelemetryAttribute.VARIANT]: variant,
          ...(cohortAttribute === undefined ? {} : { [COHORT_ATTRIBUTE]: cohort }),
        };
        duration.record(durationMs, attributes);
        requests.add(1, attributes);
        if (!ok) failures.add(1, attributes);
        tally(key, variant, cohort, durationMs, ok);
      }
    } catch {
      // a broken meter must not break the request
    }
  };

  return {
    record,
    wrap: (handler) => (req, res) =>
      runInFlagScope(() => {
        const scope = currentFlagScope();
        const start = performance.now();
        res.once('finish', () => {
          if (scope !== undefined)
            record(scope.variants, performance.now() - start, res.statusCode < 500, scope.contexts);
        });
        return handler(req, res);
      }),
    totals: (flagKey) =>
      [...(tallies.get(flagKey) ?? new Map<string, Tally>())].map(([id, counts]) => {
        const [variant = '', cohort = ''] = id.split('\u0000');
        const atOrBelow = Object.fromEntries(
          bounds.map((b, i) => [b, counts.atOrBelow[i] as number]),
        );
        return { variant, cohort, requests: counts.requests, failures: counts.failures, atOrBelow };
      }),
  };
}
