import type { CompileScope, Env, Operator, Rule } from '../rule.js';

/**
 * JavaScript turns an array into text by joining its elements, recursively: a context array nested
 * 100,000 deep overflows the stack there, and a huge one costs its length every time. Operators
 * that coerce their arguments (comparisons, arithmetic, `cat`, `substr`, `in`) hand arrays to
 * {@link textOf} first, which joins them the same way, iteratively bounded and paid for.
 */

/** Arrays nested deeper than this are not turned into text: the operator gives `null`. */
const MAX_TEXT_DEPTH = 128;

/** Characters per unit of work. @internal */
export const CHARS_PER_UNIT = 64;

/**
 * `String(array)` as JavaScript computes it (`null` and `undefined` elements empty, an array that
 * contains itself empty), one unit of work per element; `undefined` when the budget is spent or the
 * array is nested deeper than {@link MAX_TEXT_DEPTH}. @internal
 */
export function textOf(array: readonly unknown[], env: Env): string | undefined {
  const path = new Set<readonly unknown[]>();
  const join = (items: readonly unknown[], depth: number): string | undefined => {
    if (depth > MAX_TEXT_DEPTH || !env.spend(items.length)) return undefined;
    path.add(items);
    const parts: string[] = [];
    for (const item of items) {
      let part: string | undefined;
      if (item === null || item === undefined) part = '';
      else if (Array.isArray(item)) part = path.has(item) ? '' : join(item, depth + 1);
      else part = String(item);
      if (part === undefined) return undefined;
      parts.push(part);
    }
    path.delete(items);
    return parts.join(',');
  };
  return join(array, 1);
}

const isObjectValue = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;

/**
 * `value`, an array replaced by a stand-in that JavaScript turns into the same text through
 * {@link textOf}, and only if and when it coerces it (`null < x && x < [..]` may never look at the
 * last). One that cannot be turned into text throws a `RangeError` saying why, which the
 * evaluation reports as its result.
 */
function primitive(value: unknown, env: Env): unknown {
  if (!Array.isArray(value)) return value;
  return {
    [Symbol.toPrimitive]: () => {
      const text = textOf(value, env);
      if (text === undefined)
        throw new RangeError(
          `an array of ${value.length} elements is nested too deeply or too big to turn into text`,
        );
      return text;
    },
  };
}

/** Options of {@link coercing}. @internal */
export interface CoercingOptions {
  /** `==` and `!=`: two objects are compared by identity, so arrays meeting another object stay. */
  readonly loose?: boolean;
  /** `*`: one argument comes back as it is (json-logic-js reduces without an initial value). */
  readonly oneAsIs?: boolean;
  /** The units of work a call costs, given its (coerced) arguments and result. */
  readonly cost?: (args: readonly unknown[], result: unknown) => number;
  /**
   * The rule for two arguments that are neither folded nor keyed: it is given them and the general
   * path (`slow`, for arguments in their order), and may mark its rule on `scope`.
   */
  readonly pair?: (
    a: Rule,
    b: Rule,
    slow: (env: Env, x: unknown, y: unknown) => unknown,
    scope: CompileScope,
  ) => Rule;
  /** The rule for `[{"var": key}, literal]` (a primitive literal); see {@link KeyedBuilder}. */
  readonly keyed?: KeyedBuilder;
  /** The rule for `[literal, {"var": key}]`. */
  readonly keyedFlipped?: KeyedBuilder;
}

/**
 * Builds the rule of a two-argument operator over one key of the data and a primitive literal
 * (the usual `{"==": [{"var": "plan"}, "pro"]}`): it reads the key itself (as
 * {@link readKey}) and compares with the literal inline, one closure instead of three. A value
 * that is an object or an array goes to `slow`, the general path with the arguments in their
 * order. @internal
 */
export type KeyedBuilder = (
  key: string,
  literal: unknown,
  slow: (env: Env, value: unknown) => unknown,
) => Rule;

/** What `{"var": key}` gives for a key marked by `CompileScope.keyReader`. @internal */
export function readKey(data: unknown, key: string): unknown {
  if (data === null || data === undefined) return null;
  const value = (data as Record<string, unknown>)[key];
  return value === undefined ? null : value;
}

const isPrimitiveLiteral = (known: { readonly value: unknown } | undefined): boolean =>
  known !== undefined && (known.value === null || typeof known.value !== 'object');

/**
 * An operator like `eager(fn)` whose array arguments are turned into text by {@link textOf}
 * whenever `fn` coerces them, as JavaScript's coercion would; `null` when the call's `cost` is over
 * the budget. @internal
 */
export function coercing(
  fn: (...args: unknown[]) => unknown,
  options: CoercingOptions = {},
): Operator {
  const { loose = false, oneAsIs = false, cost, keyed, keyedFlipped, pair } = options;
  const safe = (env: Env, args: unknown[]): unknown => {
    if (oneAsIs && args.length === 1) return args[0];
    if (!(loose && args.length === 2 && isObjectValue(args[0]) && isObjectValue(args[1]))) {
      for (let i = 0; i < args.length; i++) args[i] = primitive(args[i], env);
    }
    const result = fn(...args);
    return cost === undefined || env.spend(cost(args, result)) ? result : null;
  };
  return {
    compile(args, scope) {
      const rules = scope.compileAll(args);
      const known = scope.constantsOf(rules);
      if (known !== undefined) {
        try {
          return scope.constant(safe(UNMETERED, known));
        } catch {
          // fall through: fail at evaluation time like the reference engine
        }
      }
      if (rules.length === 2 && cost === undefined) {
        const [a, b] = rules as [Rule, Rule];
        const [keyA, keyB] = [scope.keyOf(a), scope.keyOf(b)];
        const [knownA, knownB] = [scope.constantOf(a), scope.constantOf(b)];
        if (keyed !== undefined && keyA !== undefined && isPrimitiveLiteral(knownB)) {
          const literal = knownB?.value;
          return keyed(keyA, literal, (env, value) => safe(env, [value, literal]));
        }
        if (keyedFlipped !== undefined && keyB !== undefined && isPrimitiveLiteral(knownA)) {
          const literal = knownA?.value;
          return keyedFlipped(keyB, literal, (env, value) => safe(env, [literal, value]));
        }
      }
      if (pair !== undefined && rules.length === 2) {
        const [a, b] = rules as [Rule, Rule];
        return pair(a, b, (env, x, y) => safe(env, [x, y]), scope);
      }
      if (cost !== undefined)
        return (d, e) =>
          safe(
            e,
            rules.map((rule) => rule(d, e)),
          );
      return direct(fn, rules, safe);
    },
  };
}

/** Calls `fn` directly unless an argument is an object: only then is `safe` needed. */
function direct(
  fn: (...args: unknown[]) => unknown,
  rules: readonly Rule[],
  safe: (env: Env, args: unknown[]) => unknown,
): Rule {
  if (rules.length === 2) {
    const [a, b] = rules as [Rule, Rule];
    return (d, e) => {
      const x = a(d, e);
      const y = b(d, e);
      return isObjectValue(x) || isObjectValue(y) ? safe(e, [x, y]) : fn(x, y);
    };
  }
  return (d, e) => {
    const values = rules.map((rule) => rule(d, e));
    return values.some(isObjectValue) ? safe(e, values) : fn(...values);
  };
}

/** Units for `text`: one per {@link CHARS_PER_UNIT} characters. @internal */
export const textCost = (text: unknown): number =>
  typeof text === 'string' ? Math.floor(text.length / CHARS_PER_UNIT) : 0;

/** The environment compile-time folding runs in: literal rules are bounded by the document. */
const UNMETERED: Env = {
  flagKey: '',
  root: undefined,
  timestamp: () => 0,
  logger: { error() {}, warn() {}, info() {}, debug() {} },
  spend: () => true,
};
