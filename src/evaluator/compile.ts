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
 * Rules whose value is known at compile time. Weak: an entry lives as long as its rule, which holds
 * the value anyway; shared evaluators, compiled once per load, stay known constants in every flag.
 */
const constants = new WeakMap<Rule, { readonly value: unknown }>();

/** State shared by every node of one rule being compiled. */
class Compilation {
  constructor(readonly options: CompileOptions) {}

  constant(value: unknown): Rule {
    const rule: Rule = () => value;
    constants.set(rule, { value });
    return rule;
  }

  compile(node: unknown, at: string, depth: number): Rule {
    if (depth > this.options.maxDepth) {
      throw new RuleError(
        `rule is nested deeper than ${this.options.maxDepth} levels`,
        at,
        'max-depth',
      );
    }
    if (Array.isArray(node)) return this.array(node, at, depth);
    // JSON Logic: only an object with exactly one key is an operation; anything else is data.
    if (!isObject(node)) return this.constant(node);
    let name: string | undefined;
    for (const key in node) {
      if (name !== undefined) return this.constant(node);
      name = key;
    }
    if (name === undefined) return this.constant(node);
    const operator = this.options.operators.get(name);
    if (operator === undefined)
      throw new RuleError(`unknown operator "${name}"`, at, 'unknown-operator');
    const raw = node[name];
    const rule = operator.compile(
      Array.isArray(raw) ? raw : [raw],
      new Scope(this, childPath(at, name), depth),
    );
    return this.options.trace === true ? traced(rule, at, name) : rule;
  }

  /** JSON Logic evaluates an array element by element; all-constant arrays fold. */
  private array(node: readonly unknown[], at: string, depth: number): Rule {
    const items = node.map((item, i) => this.compile(item, childPath(at, i), depth + 1));
    const values: unknown[] = [];
    for (const item of items) {
      const known = constants.get(item);
      if (known === undefined) return evaluateAll(items);
      values.push(known.value);
    }
    return this.constant(values);
  }
}

/** What one operator node sees while it compiles. */
class Scope implements CompileScope {
  constructor(
    private readonly compilation: Compilation,
    readonly path: string,
    private readonly depth: number,
  ) {}

  compile(node: unknown, path: string): Rule {
    return this.compilation.compile(node, path, this.depth + 1);
  }

  compileShared(node: unknown, path: string): Rule {
    return this.compilation.compile(node, path, 0);
  }

  compileAll(args: readonly unknown[], offset = 0): Rule[] {
    const rules: Rule[] = [];
    for (let i = 0; i < args.length; i++)
      rules.push(this.compile(args[i], `${this.path}[${i + offset}]`));
    return rules;
  }

  constantsOf(rules: readonly Rule[]): unknown[] | undefined {
    const values: unknown[] = [];
    for (const rule of rules) {
      const known = constants.get(rule);
      if (known === undefined) return undefined;
      values.push(known.value);
    }
    return values;
  }

  constantOf(rule: Rule): { readonly value: unknown } | undefined {
    return constants.get(rule);
  }

  get tracing(): boolean {
    return this.compilation.options.trace === true;
  }

  constant(value: unknown): Rule {
    return this.compilation.constant(value);
  }

  warn(message: string): void {
    this.compilation.options.warn(message);
  }
}

/**
 * Compiles a JSON Logic rule into a closure, once. Literal sub-trees become constants, and an
 * operator whose arguments are all constant may fold itself at compile time. Throws
 * {@link RuleError} for an unknown operator or a rule nested deeper than `maxDepth`.
 * @internal
 */
export function compileRule(node: unknown, path: string, options: CompileOptions): Rule {
  return new Compilation(options).compile(node, path, 0);
}

/** A rule that evaluates every item of an array (a closure of its own: it keeps only `items`). */
function evaluateAll(items: readonly Rule[]): Rule {
  return (data, env) => items.map((rule) => rule(data, env));
}

function traced(rule: Rule, path: string, operator: string): Rule {
  return (data: unknown, env: Env) => {
    const result = rule(data, env);
    (env.trace as TraceEntry[] | undefined)?.push({ kind: 'node', path, operator, result });
    return result;
  };
}
