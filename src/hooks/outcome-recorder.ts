import { TelemetryAttribute } from '@openfeature/core';
import { metrics, type Meter } from '@opentelemetry/api';
import { currentFlagScope, runInFlagScope } from './request-scope.js';

/** Options of {@link createOutcomeRecorder}. */
export interface OutcomeRecorderOptions {
  /** Default: the global meter provider's `rampflag` meter. */
  readonly meter?: Meter;
}

/** The names of the per-variant request metrics that rollout guardrails read. */
export const OUTCOME_METRICS = {
  duration: 'rampflag.request.duration',
  requests: 'rampflag.requests',
  failures: 'rampflag.request.failures',
} as const;

/** Records how requests went, per flag variant. */
export interface OutcomeRecorder {
  /** Records one request that evaluated `variants` (flag key → variant). */
  record(
    variants: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
    durationMs: number,
    ok: boolean,
  ): void;
  /**
   * Wraps a `node:http` handler: the request runs in a flag scope, and when the response finishes
   * its duration and success (status below 500) are recorded for every variant it evaluated.
   */
  wrap<Req, Res extends { statusCode: number; once(event: 'finish', fn: () => void): unknown }>(
    handler: (req: Req, res: Res) => unknown,
  ): (req: Req, res: Res) => unknown;
}

/**
 * Per-variant request outcomes: a duration histogram (milliseconds) and request and failure
 * counters, each with `feature_flag.key` and `feature_flag.result.variant`. The per-variant signal a
 * rollout compares against its baseline. It never throws.
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

  const record: OutcomeRecorder['record'] = (variants, durationMs, ok) => {
    try {
      const entries = variants instanceof Map ? [...variants] : Object.entries(variants);
      for (const [key, variant] of entries) {
        const attributes = { [TelemetryAttribute.KEY]: key, [TelemetryAttribute.VARIANT]: variant };
        duration.record(durationMs, attributes);
        requests.add(1, attributes);
        if (!ok) failures.add(1, attributes);
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
            record(scope.variants, performance.now() - start, res.statusCode < 500);
        });
        return handler(req, res);
      }),
  };
}
