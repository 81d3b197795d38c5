import type { EvaluationResult } from '../evaluator/index.js';

/**
 * What a subject got, as a column of a table: the variant's name, or `(default)` (no variant: the
 * caller's default), `(disabled)`, or `(error: CODE)`.
 */
export function variantLabel(result: EvaluationResult<unknown>): string {
  if (result.variant !== undefined) return result.variant;
  if (result.reason === 'ERROR') return `(error: ${result.errorCode ?? 'GENERAL'})`;
  return result.reason === 'DISABLED' ? '(disabled)' : '(default)';
}
