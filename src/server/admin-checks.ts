import {
  InvalidConfigurationError,
  validateConfiguration,
  type ValidationIssue,
} from '../evaluator/index.js';

const issueKey = (issue: ValidationIssue) =>
  `${issue.path}\u0000${issue.rule}\u0000${issue.message}`;

/**
 * Refuses an admin write that adds a rule which can never work: a `$ref` to a deleted evaluator, an
 * unknown operator, a misused flagd operator. flagd loads such rules (and rampflag loads them from
 * files, with a warning), but a write through the admin API is checked strictly. Warnings the
 * configuration already had do not block an unrelated change. Throws `InvalidConfigurationError`
 * naming the source and every new issue.
 * @internal
 */
export function refuseNewWarnings(
  source: string,
  previous: string | undefined,
  next: string,
): void {
  const added = validateConfiguration(next).filter((issue) => issue.severity === 'warning');
  if (added.length === 0) return;
  const before = new Set(
    previous === undefined ? [] : validateConfiguration(previous).map(issueKey),
  );
  const fresh = added.filter((issue) => !before.has(issueKey(issue)));
  if (fresh.length === 0) return;
  throw new InvalidConfigurationError(
    fresh.map((issue) => ({
      ...issue,
      severity: 'error',
      message: `${source}: ${issue.message} (the admin API refuses rules that cannot evaluate)`,
    })),
  );
}
