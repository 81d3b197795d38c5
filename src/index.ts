/**
 * rampflag: a flagd-compatible OpenFeature provider with an embeddable in-process evaluator.
 * @packageDocumentation
 */
export { FlagdProvider } from './provider/flagd-provider.js';
export type { FlagdProviderSettings } from './provider/flagd-provider.js';
export { FlagdConfigError, resolveConfig } from './provider/config.js';
export type {
  CacheType,
  FlagdConfig,
  FlagdProviderOptions,
  ResolverType,
} from './provider/config.js';
export { InMemoryFlagSource } from './sources/in-memory.js';
export type { InMemoryFlag, InMemoryFlagSourceOptions } from './sources/in-memory.js';
export { FileFlagSource } from './sources/file.js';
export type { FileFlagSourceOptions } from './sources/file.js';
export { SseFlagSource } from './sources/sse.js';
export type { SseFlagSourceOptions } from './sources/sse.js';
export { HttpFlagSource } from './sources/http.js';
export type { HttpFlagSourceOptions } from './sources/http.js';
export type {
  FlagSource,
  FlagSourceSink,
  WritableFlagSource,
  WriteOptions,
} from './sources/flag-source.js';
export {
  isWritableSource,
  isWriteConflictError,
  WriteConflictError,
} from './sources/flag-source.js';
export {
  createEvaluator,
  validateConfiguration,
  validateTargeting,
  InvalidConfigurationError,
  isInvalidConfigurationError,
} from './evaluator/index.js';
export type {
  Evaluator,
  EvaluationResult,
  EvaluatorOptions,
  FlagChanges,
  Explanation,
  FractionalBucketing,
  ValidationIssue,
} from './evaluator/index.js';
export { bucketingMoves } from './evaluator/index.js';
export type {
  BucketingCell,
  BucketingMoves,
  BucketingMovesOptions,
  FlagBucketingMoves,
} from './evaluator/index.js';
