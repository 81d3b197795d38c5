import type { EvaluationResult, ResolutionReason } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { CliError } from './command.js';

/**
 * One flag evaluated on a server through OFREP's single-flag evaluation,
 * `POST {base}/ofrep/v1/evaluate/flags/{key}` with `{"context": …}` (flagd's OFREP port, 8016, or
 * any OFREP server), as a resolution. A server that cannot be reached, or answers what OFREP does
 * not, is a {@link CliError}.
 */
export async function evaluateOverOfrep(
  base: string,
  key: string,
  context: object,
  timeoutMs = 10_000,
): Promise<EvaluationResult<unknown>> {
  const url = `${base.replace(/\/+$/, '').replace(/\/ofrep\/v1(\/.*)?$/, '')}/ofrep/v1/evaluate/flags/${encodeURIComponent(key)}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ context }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new CliError(`${url}: ${(error as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!isObject(body) || (res.status !== 200 && typeof body['errorCode'] !== 'string'))
    throw new CliError(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  const metadata = isObject(body['metadata']) ? body['metadata'] : {};
  const flagMetadata = Object.fromEntries(
    Object.entries(metadata).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)),
  ) as EvaluationResult<unknown>['flagMetadata'];
  if (typeof body['errorCode'] === 'string')
    return {
      value: undefined,
      reason: 'ERROR',
      errorCode: body['errorCode'] as EvaluationResult<unknown>['errorCode'] & string,
      errorMessage:
        typeof body['errorDetails'] === 'string' ? body['errorDetails'] : body['errorCode'],
      flagMetadata,
    };
  return {
    value: body['value'],
    ...(typeof body['variant'] === 'string' ? { variant: body['variant'] } : {}),
    reason: (typeof body['reason'] === 'string' ? body['reason'] : 'UNKNOWN') as ResolutionReason,
    flagMetadata,
  };
}
