/**
 * `rampflag/experiment`: experiments on flagd flags. Track exposures and events per variant with
 * the provider's OpenFeature Tracking API, and analyse them. Needs no OpenTelemetry package (give
 * the recorder a `Meter` to export its metrics).
 * @packageDocumentation
 */
export { createTrackingRecorder } from './tracking.js';
export type {
  TrackingDiagnostics,
  TrackingRecorder,
  TrackingRecorderOptions,
  TrackingTotals,
} from './tracking.js';
export {
  EXPERIMENT_LABELS,
  EXPERIMENT_METRICS,
  EXPERIMENT_SERIES,
  valueMetricName,
} from './metrics.js';
export type { CounterMeter } from './metrics.js';
export type { ExperimentAssignments, ExperimentTracking } from '../provider/config.js';
export { analyzeExperiment, analysisHeadline, DEFAULT_TAU } from './analyze.js';
export type {
  AnalyzeOptions,
  Comparison,
  ExperimentAnalysis,
  LiftPoint,
  MetricAnalysis,
} from './analyze.js';
export type {
  EstimateInterval,
  FixedTest,
  RawComparison,
  SequentialResult,
  VariantSummary,
} from './compare.js';
export type { Outcome } from './verdict.js';
export { SRM_THRESHOLD } from './srm-check.js';
export type { SrmCheck } from './srm-check.js';
export { experimentChart } from './chart.js';
export type { ChartOptions } from './chart.js';
export { fromCountsFile, fromCsv } from './counts-file.js';
export type { CountsFileOptions } from './counts-file.js';
export { expectedSharesOf, fromRecorder } from './recorder-reader.js';
export type { RecorderReadOptions } from './recorder-reader.js';
export { fromPrometheus } from './prometheus-reader.js';
export type { PrometheusExperimentOptions } from './prometheus-reader.js';
export { planExperiment } from './plan.js';
export type { ExperimentPlan, PlanInput } from './plan.js';
export { ExperimentSourceError, isExperimentSourceError } from './errors.js';
export type { ExperimentSourceErrorKind } from './errors.js';
export type {
  ExperimentData,
  MetricData,
  MetricKind,
  SeriesPoint,
  VariantCounts,
} from './types.js';
