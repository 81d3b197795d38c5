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
 * Where a node sits, as a JSON path built only when something reads it (an error, a warning, a
 * trace): a load compiles hundreds of thousands of nodes and names almost none of them.
 */
type Path = string | { readonly parent: Path; readonly key: string | number };

function pathText(path: Path): string {
  const keys: (string | number)[] = [];
  let at = path;
  while (typeof at !== 'string') {
    keys.push(at.key);
    at = at.parent;
  }
  for (let i = keys.length - 1; i >= 0; i--) at = childPath(at, keys[i] as string | number);
  return at;
}

/** A constant rule; built here so that the closure keeps nothing but its value. */
const constantRule =
  (value: unknown): Rule =>
  () =>
    value;

/**
 * State shared by every node of one rule being compiled. What is known of a rule at compile time
 * (its constant value, the context key it reads) is kept here, for this compilation only: nothing
 * of it outlives the load.
 */
class Compilation {
  constructor(
    readonly options: CompileOptions,
    /** Rules whose value is known at compile time. */
    readonly constants: Map<Rule, unknown>,
    /**
     * Rules known by their shape: a key of the data they read ({@link CompileScope.keyOf}), or the
     * two rules whose strings they concatenate ({@link CompileScope.concatenationOf}).
     */
    readonly shapes: Map<Rule, string | readonly [Rule, Rule]>,
  ) {}

  constant(value: unknown): Rule {
    const rule = constantRule(value);
    this.constants.set(rule, value);
    return rule;
  }

  compile(node: unknown, at: Path, depth: number): Rule {
    if (depth > this.options.maxDepth) {
      throw new RuleError(
        `rule is nested deeper than ${this.options.maxDepth} levels`,
        pathText(at),
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
      throw new RuleError(`unknown operator "${name}"`, pathText(at), 'unknown-operator');
    const raw = node[name];
    const rule = operator.compile(
      Array.isArray(raw) ? raw : [raw],
      new Scope(this, { parent: at, key: name }, depth),
    );
    return this.options.trace === true ? traced(rule, pathText(at), name) : rule;
  }

  /** JSON Logic evaluates an array element by element; all-constant arrays fold. */
  private array(node: readonly unknown[], at: Path, depth: number): Rule {
    const items = node.map((item, i) => this.compile(item, { parent: at, key: i }, depth + 1));
    for (const item of items) if (!this.constants.has(item)) return evaluateAll(items);
    return this.constant(items.map((item) => this.constants.get(item)));
  }
}

/** What one operator node sees while it compiles. */
class Scope implements CompileScope {
  #path: string | undefined;

  constructor(
    private readonly compilation: Compilation,
    private readonly at: Path,
    private readonly depth: number,
  ) {}

  get path(): string {
    return (this.#path ??= pathText(this.at));
  }

  compile(node: unknown, path: string): Rule {
    return this.compilation.compile(node, path, this.depth + 1);
  }

  compileArg(args: readonly unknown[], index: number): Rule {
    return this.compilation.compile(args[index], { parent: this.at, key: index }, this.depth + 1);
  }

  compileShared(node: unknown, path: string): Rule {
    return this.compilation.compile(node, path, 0);
  }

  compileAll(args: readonly unknown[], offset = 0): Rule[] {
    return args.map((arg, i) =>
      this.compilation.compile(arg, { parent: this.at, key: i + offset }, this.depth + 1),
    );
  }

  constantsOf(rules: readonly Rule[]): unknown[] | undefined {
    const { constants } = this.compilation;
    for (const rule of rules) if (!constants.has(rule)) return undefined;
    return rules.map((rule) => constants.get(rule));
  }

  constantOf(rule: Rule): { readonly value: unknown } | undefined {
    const { constants } = this.compilation;
    return constants.has(rule) ? { value: constants.get(rule) } : undefined;
  }

  keyReader(key: string, rule: Rule): Rule {
    this.compilation.shapes.set(rule, key);
    return rule;
  }

  keyOf(rule: Rule): string | undefined {
    const shape = this.compilation.shapes.get(rule);
    return typeof shape === 'string' ? shape : undefined;
  }

  concatenation(parts: readonly [Rule, Rule], rule: Rule): Rule {
    this.compilation.shapes.set(rule, parts);
    return rule;
  }

  concatenationOf(rule: Rule): readonly [Rule, Rule] | undefined {
    const shape = this.compilation.shapes.get(rule);
    return typeof shape === 'object' ? shape : undefined;
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
  return new Compilation(options, new Map(), new Map()).compile(node, path, 0);
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
