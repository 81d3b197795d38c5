import type { Env, Operator, Rule } from '../rule.js';
import { parseSemVer, SEMVER_OPERATORS, type SemVer } from '../semver.js';

type Comparator = (a: SemVer, b: SemVer) => boolean;

const comparatorOf = (op: unknown): Comparator | undefined =>
  typeof op === 'string' && Object.hasOwn(SEMVER_OPERATORS, op) ? SEMVER_OPERATORS[op] : undefined;

/** A version rule; a literal version is parsed once, at compile time. */
function versionRule(rule: Rule, known: { readonly value: unknown } | undefined) {
  if (known === undefined) return (d: unknown, e: Env) => parseSemVer(rule(d, e));
  const parsed = parseSemVer(known.value);
  return () => parsed;
}

function wrongCount(count: number): Rule {
  return (_d, env) => {
    env.logger.debug(`sem_ver: expected 3 arguments, got ${count}`);
    return null;
  };
}

/**
 * `sem_ver`: `[version, operator, version]` → boolean; `null` for a wrong argument count, an
 * unknown operator or an invalid version.
 */
const semVer: Operator = {
  compile(args, scope) {
    if (args.length !== 3) return wrongCount(args.length);
    const [left, op, right] = scope.compileAll(args) as [Rule, Rule, Rule];
    const a = versionRule(left, scope.constantOf(left));
    const b = versionRule(right, scope.constantOf(right));
    const knownOp = scope.constantOf(op);
    const fixed = knownOp === undefined ? undefined : (comparatorOf(knownOp.value) ?? null);
    return (data, env) => {
      const compare = fixed === undefined ? comparatorOf(op(data, env)) : fixed;
      const va = a(data, env);
      const vb = b(data, env);
      if (compare == null || va === null || vb === null) {
        env.logger.debug('sem_ver: invalid operator or version');
        return null;
      }
      return compare(va, vb);
    };
  },
};

/** @internal */
export const semVerOperators: Readonly<Record<string, Operator>> = { sem_ver: semVer };
