import { ParseError } from '@openfeature/core';

/** One problem found in a flag configuration, located by its JSON path. */
export interface ValidationIssue {
  /**
   * `error`: the configuration is rejected whole. `warning`: flagd accepts it, but the rule at
   * `path` breaks the schema and evaluates to `PARSE_ERROR` or falls back to the default variant.
   */
  readonly severity: 'error' | 'warning';
  /** JSON path of the offending value, e.g. `flags["new-ui"].variants`. */
  readonly path: string;
  /** The rule broken, e.g. `required`, `enum`, `variant-type`, `unknown-operator`. */
  readonly rule: string;
  readonly message: string;
}

/**
 * Thrown by `setConfiguration` when a configuration is rejected; the previous one stays in service.
 * It is an OpenFeature `ParseError` (its `name` is `ParseError`), carrying every issue found.
 */
export class InvalidConfigurationError extends ParseError {
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], options?: { cause?: unknown }) {
    const errors = issues.filter((issue) => issue.severity === 'error');
    const shown = errors
      .slice(0, 5)
      .map((issue) => `${issue.path || '(root)'}: ${issue.message} [${issue.rule}]`);
    const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
    super(`invalid flag configuration: ${shown.join('; ')}${more}`, options);
    Object.setPrototypeOf(this, new.target.prototype);
    this.issues = issues;
  }
}

/** Whether `error` is an {@link InvalidConfigurationError}, across ESM/CJS copies of the class. */
export function isInvalidConfigurationError(error: unknown): error is InvalidConfigurationError {
  return (
    error instanceof Error &&
    error.name === 'ParseError' &&
    Array.isArray((error as { issues?: unknown }).issues)
  );
}

/**
 * `error` as an {@link InvalidConfigurationError}: itself when it is one, else one `internal` issue
 * carrying it as its cause, so loading a configuration throws nothing else. @internal
 */
export function asConfigurationError(error: unknown): InvalidConfigurationError {
  if (isInvalidConfigurationError(error)) return error;
  const message = `the configuration could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
  return new InvalidConfigurationError(
    [{ severity: 'error', path: '', rule: 'internal', message }],
    {
      cause: error,
    },
  );
}
