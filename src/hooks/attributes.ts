import {
  StandardResolutionReasons,
  TelemetryAttribute,
  TelemetryFlagMetadata,
  type EvaluationDetails,
  type FlagValue,
  type HookContext,
} from '@openfeature/core';
import type { Attributes } from '@opentelemetry/api';

/** The semantic-convention attribute for an evaluation's error message. */
export const ERROR_MESSAGE = 'feature_flag.error.message';

/** How the evaluated value may appear on telemetry: never, unless opted in. */
export interface ValueOptions {
  /** Record `feature_flag.result.value`. Default false: values can be personal or secret. */
  readonly includeValue?: boolean;
  /** Replaces a value before it is recorded; return `undefined` to leave it out. */
  readonly redactValue?: (
    flagKey: string,
    value: FlagValue,
  ) => string | number | boolean | undefined;
  /** Longest recorded value, in characters (objects are JSON). Default 256. */
  readonly maxValueLength?: number;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;

function valueAttribute(
  flagKey: string,
  value: FlagValue,
  options: ValueOptions,
): string | number | boolean | undefined {
  const shown = options.redactValue === undefined ? value : options.redactValue(flagKey, value);
  if (shown === undefined || shown === null) return undefined;
  if (typeof shown === 'number' || typeof shown === 'boolean') return shown;
  const raw = typeof shown === 'string' ? shown : JSON.stringify(shown);
  const max = options.maxValueLength ?? 256;
  return raw.length > max ? `${raw.slice(0, max)}…` : raw;
}

/**
 * The `feature_flag.evaluation` attributes of one evaluation, named as the OpenTelemetry semantic
 * conventions name them (reason and error type lower-cased).
 * @internal
 */
export function evaluationAttributes(
  hook: Readonly<HookContext>,
  details: EvaluationDetails<FlagValue>,
  options: ValueOptions,
): Attributes {
  const attributes: Attributes = {
    [TelemetryAttribute.KEY]: hook.flagKey,
    [TelemetryAttribute.PROVIDER]: hook.providerMetadata.name,
    [TelemetryAttribute.REASON]: (
      details.reason ?? StandardResolutionReasons.UNKNOWN
    ).toLowerCase(),
  };
  if (details.variant !== undefined) attributes[TelemetryAttribute.VARIANT] = details.variant;
  const contextId =
    text(details.flagMetadata[TelemetryFlagMetadata.CONTEXT_ID]) ?? hook.context.targetingKey;
  if (contextId !== undefined) attributes[TelemetryAttribute.CONTEXT_ID] = contextId;
  const setId = text(details.flagMetadata[TelemetryFlagMetadata.FLAG_SET_ID]);
  if (setId !== undefined) attributes[TelemetryAttribute.FLAG_SET_ID] = setId;
  const version = text(details.flagMetadata[TelemetryFlagMetadata.VERSION]);
  if (version !== undefined) attributes[TelemetryAttribute.VERSION] = version;
  if (details.reason === StandardResolutionReasons.ERROR) {
    attributes[TelemetryAttribute.ERROR_CODE] = (details.errorCode ?? 'GENERAL').toLowerCase();
    if (details.errorMessage !== undefined) attributes[ERROR_MESSAGE] = details.errorMessage;
  }
  if (options.includeValue === true) {
    const value = valueAttribute(hook.flagKey, details.value, options);
    if (value !== undefined) attributes[TelemetryAttribute.VALUE] = value;
  }
  return attributes;
}
