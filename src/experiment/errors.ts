/**
 * Why experiment data could not be read: `invalid` (a bad file, row or field; named in the
 * message) or `unreachable` (the source, e.g. Prometheus, did not answer).
 */
export type ExperimentSourceErrorKind = 'invalid' | 'unreachable';

/**
 * Experiment data that cannot be read or analysed. Recognise it by `name`
 * (`'ExperimentSourceError'`), not `instanceof`: dual ESM/CJS builds carry two copies of a class.
 */
export class ExperimentSourceError extends Error {
  override readonly name = 'ExperimentSourceError';
  constructor(
    message: string,
    readonly kind: ExperimentSourceErrorKind = 'invalid',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Whether `error` is an {@link ExperimentSourceError}. */
export function isExperimentSourceError(error: unknown): error is ExperimentSourceError {
  return error instanceof Error && error.name === 'ExperimentSourceError';
}
