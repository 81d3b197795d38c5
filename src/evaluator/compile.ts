import type { CompileScope, Env, Operator, Rule, TraceEntry } from './rule.js';
import { RuleError } from './rule.js';
import { childPath, isObject } from './json-path.js';

/** Options of {@link compileRule}. @internal */
export interface CompileOptions {
  readonly operators: ReadonlyMap<string, Operator>;
  /** Record every operator's result into `env.trace` (used by `explain`). */
  readonly trace?: boolean;
  readonly maxDepth: number;
  readonly warn: (message: string) => void;
}

/**
 * Compiles a JSON Logic rule into a closure, once. Literal sub-trees become constants, and an
 * operator whose arguments are all constant may fold itself at compile time. Throws
 * {@link RuleError} for an unknown operator or a rule nested deeper than `maxDepth`.
 * @internal
 */
export function compileRule(node: unknown, path: string, options: CompileOptions): Rule {
  const constants = new WeakMap<Rule, { readonly value: unknown }>();

  const constant = (value: unknown): Rule => {
    const rule: Rule = () => value;
    constants.set(rule, { value });
    return rule;
  };

  const compile = (current: unknown, at: string, depth: number): Rule => {
    if (depth > options.maxDepth) {
      throw new RuleError(`rule is nested deeper than ${options.maxDepth} levels`, at, 'max-depth');
    }
    if (Array.isArray(current)) {
      const items = current.map((item, i) => compile(item, childPath(at, i), depth + 1));
      const known = items.map((item) => constants.get(item));
      if (known.every((item) => item !== undefined))
        return constant(known.map((item) => item.value));
      return (data, env) => items.map((item) => item(data, env));
    }
    // JSON Logic: only an object with exactly one key is an operation; anything else is data.
    if (!isObject(current)) return constant(current);
    const keys = Object.keys(current);
    if (keys.length !== 1) return constant(current);
    const name = keys[0] as string;
    const operator = options.operators.get(name);
    const opPath = childPath(at, name);
    if (operator === undefined)
      throw new RuleError(`unknown operator "${name}"`, at, 'unknown-operator');
    const raw = current[name];
    const args = Array.isArray(raw) ? raw : [raw];
    const scope: CompileScope = {
      path: opPath,
      compile: (sub, subPath) => compile(sub, subPath, depth + 1),
      constantOf: (rule) => constants.get(rule),
      constant,
      warn: options.warn,
    };
    const rule = operator.compile(args, scope);
    return options.trace === true ? traced(rule, at, name) : rule;
  };

  return compile(node, path, 0);
}

function traced(rule: Rule, path: string, operator: string): Rule {
  return (data: unknown, env: Env) => {
    const result = rule(data, env);
    (env.trace as TraceEntry[] | undefined)?.push({ kind: 'node', path, operator, result });
    return result;
  };
}
