/**
 * `rampflag/evaluator`: flagd's in-process evaluator. Resolves flagd flag definitions locally, with
 * `fractional` bucketing identical to flagd's, and runs wherever JavaScript does (no `eval`).
 * @packageDocumentation
 */
export { createEvaluator } from './evaluator.js';
export type { Evaluator } from './evaluator.js';
export { validateConfiguration, validateTargeting } from './load.js';
export type { ConfigurationInput, ValidateOptions } from './load.js';
export type { SchemaName } from './configuration.js';
export { InvalidConfigurationError, isInvalidConfigurationError } from './errors.js';
export type { ValidationIssue } from './errors.js';
export type { FlagChanges } from './store.js';
export type { Explanation, ExplainStep } from './explain.js';
export type { FractionalDecision } from './rule.js';
export type {
  Clock,
  EvaluationResult,
  EvaluatorOptions,
  FlagValueType,
  FractionalBucketing,
  JsonObject,
  JsonValue,
  ResolutionReason,
} from './types.js';
export { bucketingMoves } from './bucketing-moves.js';
export type {
  BucketingCell,
  BucketingMoves,
  BucketingMovesOptions,
  FlagBucketingMoves,
} from './bucketing-moves.js';
