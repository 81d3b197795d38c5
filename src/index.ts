/**
 * rampflag: a flagd-compatible OpenFeature provider with an embeddable in-process evaluator.
 * The provider and its sources arrive with the next milestone; the evaluator is complete.
 * @packageDocumentation
 */
export {
  createEvaluator,
  validateConfiguration,
  InvalidConfigurationError,
  isInvalidConfigurationError,
} from './evaluator/index.js';
export type {
  Evaluator,
  EvaluationResult,
  EvaluatorOptions,
  FlagChanges,
  Explanation,
  ValidationIssue,
} from './evaluator/index.js';
