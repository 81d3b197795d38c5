import type { ErrorCode, FlagMetadata, Logger } from '@openfeature/core';

export type { JsonObject, JsonValue } from '@openfeature/core';

/** The value types a flag's variants may have (all variants of one flag share one). */
export type FlagValueType = 'boolean' | 'string' | 'number' | 'object';

/** A source of the current time; injected so `$flagd.timestamp` and schedules are testable. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The reasons flagd returns. */
export type ResolutionReason = 'STATIC' | 'TARGETING_MATCH' | 'DEFAULT' | 'DISABLED' | 'ERROR';

/** What every `resolve*` call returns: OpenFeature's `ResolutionDetails`, always with metadata. */
export interface EvaluationResult<T> {
  /** The variant's value, or the caller's default when no variant applies. */
  readonly value: T;
  /** The variant name, absent when the caller's default is returned. */
  readonly variant?: string;
  readonly reason: ResolutionReason;
  readonly errorCode?: ErrorCode;
  readonly errorMessage?: string;
  /** Flag-set metadata overlaid by the flag's own metadata (flag-set metadata alone when not found). */
  readonly flagMetadata: FlagMetadata;
}

/**
 * How `fractional` turns a bucketing value into a hash (flagd-spec §b.6.4):
 * - `v2`: MurmurHash3 of the UTF-8 bytes of a string key; the implicit key is
 *   `flagKey + targetingKey`. flagd's algorithm since 0.15 and its default.
 * - `v3`: MurmurHash3 of the deterministic CBOR (RFC 8949 §4.2.1) of the bucketing value, which may
 *   be a string, number, boolean or object; the implicit key is the array `[flagKey, targetingKey]`.
 *   Accepted by flagd (ADR "Harden Hashing Consistency And Add Support For Non-string Attributes"),
 *   tested by flagd-testbed's `@fractional-v3` scenarios, not yet flagd's default. Every subject's
 *   bucket changes from v2's.
 */
export type FractionalBucketing = 'v2' | 'v3';

/** Options of {@link createEvaluator}. */
export interface EvaluatorOptions {
  /** Time source for `$flagd.timestamp`; defaults to `Date`. */
  readonly clock?: Clock;
  /** Receives warnings (schema violations flagd tolerates) and debug messages (operator misuse). */
  readonly logger?: Logger;
  /** Largest configuration text accepted, in bytes (UTF-16 code units for strings). Default 16 MiB. */
  readonly maxConfigurationBytes?: number;
  /**
   * Deepest nesting accepted in a configuration (objects and arrays), shared evaluators inlined.
   * Default 128.
   */
  readonly maxDepth?: number;
  /**
   * Most JSON values one rule (a flag's targeting or a shared evaluator) may hold once every `$ref`
   * in it is inlined, as flagd inlines them. A configuration over it is refused, the evaluator named.
   * Default 1,000,000.
   */
  readonly maxRuleNodes?: number;
  /**
   * The work one evaluation may do: one unit per array element that `map`, `filter`, `reduce`,
   * `all`, `none`, `some`, `merge` or `in` visits or that is turned into text, one per 64
   * characters that `in`, `cat` or `substr` reads or builds. An evaluation that needs more stops
   * and returns an error result (reason `ERROR`, code `GENERAL`) instead of blocking the event loop.
   * Default 100,000.
   */
  readonly maxEvaluationWork?: number;
  /**
   * The `fractional` bucketing: `'v2'` (default, as flagd) or `'v3'` (CBOR-encoded bucketing
   * values, so numbers, booleans and objects bucket without `cat`; every bucket moves). See
   * {@link FractionalBucketing}.
   */
  readonly fractional?: FractionalBucketing;
}
