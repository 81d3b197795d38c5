import {
  StandardResolutionReasons,
  TelemetryAttribute,
  type EvaluationDetails,
  type FlagValue,
  type HookContext,
} from '@openfeature/core';
import { metrics, type Attributes, type Meter } from '@opentelemetry/api';
import type { FlagHook } from './span-hook.js';

/** Options of {@link createMetricsHook}. */
export interface MetricsHookOptions {
  /** Default: the global meter provider's `rampflag` meter. */
  readonly meter?: Meter;
}

/** The evaluation counter's name. */
export const EVALUATIONS_METRIC = 'feature_flag.evaluations';

/**
 * An OpenFeature hook counting evaluations by flag key, variant, reason and error type. Low
 * cardinality by design: no context values, no error messages. It never throws.
 */
export function createMetricsHook(options: MetricsHookOptions = {}): FlagHook {
  const meter = options.meter ?? metrics.getMeter('rampflag');
  const counter = meter.createCounter(EVALUATIONS_METRIC, {
    description: 'Feature flag evaluations, by flag key, variant, reason and error type',
    unit: '{evaluation}',
  });
  return {
    finally(hook: Readonly<HookContext>, details: EvaluationDetails<FlagValue>) {
      try {
        const reason = (details.reason ?? StandardResolutionReasons.UNKNOWN).toLowerCase();
        const attributes: Attributes = {
          [TelemetryAttribute.KEY]: hook.flagKey,
          [TelemetryAttribute.REASON]: reason,
        };
        if (details.variant !== undefined) attributes[TelemetryAttribute.VARIANT] = details.variant;
        if (details.reason === StandardResolutionReasons.ERROR) {
          attributes[TelemetryAttribute.ERROR_CODE] = (
            details.errorCode ?? 'GENERAL'
          ).toLowerCase();
        }
        counter.add(1, attributes);
      } catch (error) {
        hook.logger.warn(`rampflag metrics hook: ${(error as Error).message}`);
      }
    },
  };
}
