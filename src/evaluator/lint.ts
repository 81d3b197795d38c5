import type { ValidationIssue } from './errors.js';
import { childPath, isObject } from './json-path.js';

const FLAGD_PROPERTIES = new Set(['$flagd.flagKey', '$flagd.timestamp']);
const SEMVER_OPS = new Set(['=', '!=', '>', '<', '>=', '<=', '~', '^']);
const STRICT_SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

type Warn = (path: string, rule: string, message: string) => void;
type Check = (args: readonly unknown[], path: string, warn: Warn) => void;

const isRule = (value: unknown): boolean => isObject(value) && Object.keys(value).length === 1;

/** flagd's targeting-schema rules for its own operators, beyond "the operator exists". */
const CHECKS: Readonly<Record<string, Check>> = {
  var(args, path, warn) {
    const name = args[0];
    if (typeof name === 'string' && name.startsWith('$flagd.') && !FLAGD_PROPERTIES.has(name)) {
      warn(
        childPath(path, 0),
        'flagd-property',
        `"${name}" is not a flagd property: only $flagd.flagKey and $flagd.timestamp exist`,
      );
    }
  },
  starts_with: stringCompare,
  ends_with: stringCompare,
  sem_ver(args, path, warn) {
    if (args.length !== 3) {
      warn(
        path,
        'sem-ver-arguments',
        `sem_ver takes [version, operator, version], got ${args.length} arguments`,
      );
      return;
    }
    if (typeof args[1] !== 'string' || !SEMVER_OPS.has(args[1])) {
      warn(
        childPath(path, 1),
        'sem-ver-operator',
        `${JSON.stringify(args[1])} is not a sem_ver operator (=, !=, <, <=, >, >=, ^, ~)`,
      );
    }
    for (const i of [0, 2]) {
      const version = args[i];
      if (!isRule(version) && !(typeof version === 'string' && STRICT_SEMVER.test(version))) {
        warn(
          childPath(path, i),
          'sem-ver-version',
          `${JSON.stringify(version)} is not a semantic version (x.y.z) or a rule`,
        );
      }
    }
  },
  fractional(args, path, warn) {
    const hasKey = args.length > 0 && !Array.isArray(args[0]);
    if (hasKey && !isRule(args[0])) {
      warn(
        childPath(path, 0),
        'fractional-bucketing',
        'the bucketing key must be a rule such as {"var": "email"}, not a literal',
      );
    }
    args.slice(hasKey ? 1 : 0).forEach((bucket, i) => {
      const at = childPath(path, i + (hasKey ? 1 : 0));
      if (!Array.isArray(bucket) || bucket.length < 1 || bucket.length > 2) {
        warn(at, 'fractional-bucket', 'a bucket must be [variant] or [variant, weight]');
        return;
      }
      const weight: unknown = bucket[1];
      if (
        weight !== undefined &&
        !isRule(weight) &&
        !(Number.isInteger(weight) && (weight as number) >= 0)
      ) {
        warn(
          childPath(at, 1),
          'fractional-weight',
          `weight ${JSON.stringify(weight)} must be a non-negative integer or a rule`,
        );
      }
    });
  },
};

function stringCompare(args: readonly unknown[], path: string, warn: Warn): void {
  if (args.length !== 2) {
    warn(path, 'string-compare-arguments', `expected 2 arguments, got ${args.length}`);
    return;
  }
  args.forEach((arg, i) => {
    if (typeof arg !== 'string' && !isRule(arg)) {
      warn(
        childPath(path, i),
        'string-compare-argument',
        `${JSON.stringify(arg)} must be a string or a rule`,
      );
    }
  });
}

/**
 * The schema-level warnings for one rule: misuse of flagd's operators that flagd loads anyway (the
 * operator then yields `null`). Walks the rule without evaluating it.
 * @internal
 */
export function lintRule(rule: unknown, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const warn: Warn = (at, name, message) =>
    issues.push({ severity: 'warning', path: at, rule: name, message });
  // a targeting that is an object of several keys is data, not a rule: it evaluates to itself,
  // which names no variant (a JSON merge patch into an existing rule makes one)
  if (isObject(rule) && Object.keys(rule).length > 1)
    warn(
      path,
      'several-keys',
      `an object with several keys (${Object.keys(rule).slice(0, 4).join(', ')}) is data, not a rule: it can never name a variant`,
    );
  const stack: [unknown, string][] = [[rule, path]];
  while (stack.length > 0) {
    const [node, at] = stack.pop() as [unknown, string];
    if (Array.isArray(node)) {
      node.forEach((item, i) => stack.push([item, childPath(at, i)]));
      continue;
    }
    if (!isRule(node)) continue;
    const name = Object.keys(node as object)[0] as string;
    const raw = (node as Record<string, unknown>)[name];
    const args = Array.isArray(raw) ? raw : [raw];
    const opPath = childPath(at, name);
    if (Object.hasOwn(CHECKS, name)) CHECKS[name]?.(args, opPath, warn);
    args.forEach((arg, i) => stack.push([arg, childPath(opPath, i)]));
  }
  return issues;
}
