import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EvaluationContext, JsonObject, JsonValue } from '@openfeature/core';
import type { EvaluationResult, Evaluator } from '../evaluator/index.js';
import { pathOf, readJsonBody, sendJson, type EvaluationDeps } from './http-util.js';

/** flagd's error codes to Connect codes and HTTP statuses (flagd-spec §b.3). */
const CONNECT_ERRORS: Readonly<Record<string, readonly [string, number]>> = {
  FLAG_NOT_FOUND: ['not_found', 404],
  TYPE_MISMATCH: ['invalid_argument', 400],
  PARSE_ERROR: ['data_loss', 500],
  GENERAL: ['unknown', 500],
};
const PATH =
  /^\/(flagd\.evaluation\.v[12]|schema\.v1)\.Service\/Resolve(Boolean|String|Int|Float|Object|All)$/;

/** Called with every flag evaluated, for metrics. */
type Observe = (key: string, result: EvaluationResult<unknown>) => void;
type ResolveKind = 'Boolean' | 'String' | 'Int' | 'Float' | 'Object';
type Kind = ResolveKind | 'All';

function connectError(res: ServerResponse, code: string, message: string, status: number): void {
  sendJson(res, status, { code, message });
}

/** @internal */
export function resolve(
  evaluator: Evaluator,
  kind: ResolveKind,
  key: string,
  context: EvaluationContext,
): EvaluationResult<unknown> {
  switch (kind) {
    case 'Boolean':
      return evaluator.resolveBoolean(key, false, context);
    case 'String':
      return evaluator.resolveString(key, '', context);
    case 'Int':
    case 'Float':
      return evaluator.resolveNumber(key, 0, context);
    case 'Object':
      return evaluator.resolveObject(key, {}, context);
  }
}

/** A `Resolve*` response body: v1 always has a value and variant; v2 leaves them out when unset. */
function responseBody(result: EvaluationResult<unknown>, kind: ResolveKind, v2: boolean): object {
  const body: Record<string, unknown> = { reason: result.reason, metadata: result.flagMetadata };
  if (result.variant !== undefined || !v2) {
    // flagd's int64 is a JSON string; it truncates, as Go's int64(float) does
    body['value'] = kind === 'Int' ? String(Math.trunc(result.value as number)) : result.value;
    body['variant'] = result.variant ?? '';
  }
  return body;
}

/** One flag of `ResolveAll`: its value's JSON type picks the field it travels in. @internal */
export interface AnyFlagResult {
  readonly reason: string;
  readonly variant: string;
  readonly value: JsonValue;
  readonly metadata: JsonObject;
}

/** `ResolveAll` (v1): every flag that resolves to a value. @internal */
export function resolveAllFlags(
  evaluator: Evaluator,
  context: EvaluationContext,
  observe: Observe,
): { flags: Record<string, AnyFlagResult>; metadata: JsonObject } {
  const flags: Record<string, AnyFlagResult> = {};
  for (const key of evaluator.flagKeys()) {
    const result = evaluator.resolveValue(key, context);
    observe(key, result);
    if (result.reason === 'ERROR' || result.variant === undefined) continue;
    flags[key] = {
      reason: result.reason,
      variant: result.variant,
      value: result.value as JsonValue,
      metadata: result.flagMetadata as JsonObject,
    };
  }
  return { flags, metadata: evaluator.metadata as JsonObject };
}

/** `ResolveAll` in Connect JSON: the value as `boolValue`, `stringValue`, `doubleValue` or `objectValue`. */
function resolveAll(evaluator: Evaluator, context: EvaluationContext, observe: Observe): object {
  const { flags, metadata } = resolveAllFlags(evaluator, context, observe);
  const json: Record<string, unknown> = {};
  for (const [key, { value, ...rest }] of Object.entries(flags)) {
    const typed =
      typeof value === 'boolean'
        ? { boolValue: value }
        : typeof value === 'string'
          ? { stringValue: value }
          : typeof value === 'number'
            ? { doubleValue: value }
            : { objectValue: value };
    json[key] = { reason: rest.reason, variant: rest.variant, ...typed, metadata: rest.metadata };
  }
  return { flags: json, metadata };
}

/** Why a `Resolve<T>` call fails, as a Connect code (gRPC's status, in snake case). @internal */
export interface ResolveFailure {
  readonly code: 'not_found' | 'invalid_argument' | 'data_loss' | 'unknown';
  readonly message: string;
}

/**
 * A `Resolve<T>` call's result, or the status flagd answers it with (flagd-spec §b.3): an error
 * code's status, and NOT_FOUND for v1 when there is no value to return. @internal
 */
export function resolveCall(
  evaluator: Evaluator,
  kind: ResolveKind,
  key: string,
  context: EvaluationContext,
  v2: boolean,
  observe: Observe,
): EvaluationResult<unknown> | ResolveFailure {
  const result = resolve(evaluator, kind, key, context);
  observe(key, result);
  if (result.errorCode !== undefined) {
    const [code] = CONNECT_ERRORS[result.errorCode] ?? ['unknown'];
    return {
      code: code as ResolveFailure['code'],
      message: result.errorMessage ?? result.errorCode,
    };
  }
  if (result.variant === undefined && !v2)
    // v1 cannot say "no value" (a code default or a disabled flag): flagd answers NOT_FOUND
    return {
      code: 'not_found',
      message: `flag "${key}" has no value to return (${result.reason}); use flagd.evaluation.v2`,
    };
  return result;
}

/**
 * flagd's evaluation API in its Connect JSON form: `POST /flagd.evaluation.v1.Service/ResolveBoolean`
 * (and String, Int, Float, Object, All), the `v2` service, and the legacy `schema.v1.Service`, with
 * flagd's response shapes and error mapping. `deps.pick` gives the evaluator for a
 * request's `Flagd-Selector` (throwing a RangeError for a bad one). Returns false for paths it does not serve.
 * @internal
 */
export async function handleEvaluation(
  req: IncomingMessage,
  res: ServerResponse,
  deps: EvaluationDeps,
): Promise<boolean> {
  const observe = deps.evaluated;
  const match = PATH.exec(pathOf(req));
  if (match === null) return false;
  if (req.method !== 'POST') {
    connectError(res, 'unimplemented', 'use POST', 405);
    return true;
  }
  let evaluator: Evaluator;
  try {
    evaluator = deps.pick(req); // the flags the Flagd-Selector header selects
  } catch (error) {
    connectError(res, 'invalid_argument', (error as Error).message, 400);
    return true;
  }
  const v2 = match[1] === 'flagd.evaluation.v2';
  const kind = match[2] as Kind;
  const read = await readJsonBody(req, deps.maxDepth);
  if (!('value' in read)) {
    const code = read.status === 413 ? 'resource_exhausted' : 'invalid_argument';
    connectError(res, code, read.message, read.status);
    return true;
  }
  const body = (read.value ?? {}) as { flagKey?: unknown; context?: unknown };
  const context = deps.enrich(
    (typeof body.context === 'object' && body.context !== null && !Array.isArray(body.context)
      ? body.context
      : {}) as EvaluationContext,
    req.rawHeaders,
  );
  if (kind === 'All') {
    if (v2) connectError(res, 'unimplemented', 'ResolveAll is a flagd.evaluation.v1 method', 404);
    else sendJson(res, 200, resolveAll(evaluator, context, observe));
    return true;
  }
  if (typeof body.flagKey !== 'string') {
    connectError(res, 'invalid_argument', 'flagKey must be a string', 400);
    return true;
  }
  const outcome = resolveCall(evaluator, kind, body.flagKey, context, v2, observe);
  if ('code' in outcome) {
    const status =
      outcome.code === 'not_found' ? 404 : outcome.code === 'invalid_argument' ? 400 : 500;
    connectError(res, outcome.code, outcome.message, status);
  } else sendJson(res, 200, responseBody(outcome, kind, v2));
  return true;
}
