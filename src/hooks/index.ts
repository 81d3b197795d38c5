/**
 * `rampflag/otel`: OpenTelemetry for feature flags. Tag spans with the variant that served them,
 * count evaluations, and record request outcomes per variant. Needs `@opentelemetry/api`.
 * @packageDocumentation
 */
export { createSpanHook } from './span-hook.js';
export type { FlagHook, SpanHookOptions } from './span-hook.js';
export { createMetricsHook, EVALUATIONS_METRIC } from './metrics-hook.js';
export type { MetricsHookOptions } from './metrics-hook.js';
export { COHORT_ATTRIBUTE, createOutcomeRecorder, OUTCOME_METRICS } from './outcome-recorder.js';
export type { OutcomeRecorder, OutcomeRecorderOptions, OutcomeSeries } from './outcome-recorder.js';
export {
  currentFlagScope,
  flagVariantsMiddleware,
  runInFlagScope,
  withFlagVariants,
  withVariantBaggage,
} from './request-scope.js';
export type { FlagScope } from './request-scope.js';
export type { ValueOptions } from './attributes.js';
