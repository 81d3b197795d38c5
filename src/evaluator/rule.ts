import type { Logger } from '@openfeature/core';

/** Per-evaluation facts a compiled rule may read besides the data. @internal */
export interface Env {
  readonly flagKey: string;
  /** The root evaluation context (so `$flagd.*` resolves only at the root, as flagd injects it). */
  readonly root: unknown;
  /** Unix seconds, computed on first use. */
  timestamp(): number;
  readonly logger: Logger;
  /**
   * Takes `units` from the evaluation's work budget (one per array element visited, one per 64
   * characters of string read or built). `false` once the budget is spent: the operator then gives
   * up (returns `null` at once) and the evaluation ends in an error result naming the budget.
   */
  spend(units: number): boolean;
  /** Present only under `explain`: operators append what they decided. */
  readonly trace?: TraceEntry[] | undefined;
}

/** One entry of an explanation: a rule node and what it evaluated to, or a fractional decision. */
export type TraceEntry =
  | {
      readonly kind: 'node';
      readonly path: string;
      readonly operator: string;
      readonly result: unknown;
    }
  | ({ readonly kind: 'fractional'; readonly path: string } & FractionalDecision);

/** How `fractional` chose a bucket. */
export interface FractionalDecision {
  /**
   * What was hashed: the string key under v2 bucketing (`flagKey + targetingKey` when implicit);
   * under v3, the bucketing value as JSON (`[flagKey, targetingKey]` when implicit).
   */
  readonly bucketingKey: string;
  /** v3 only: the deterministic CBOR bytes that were hashed, in hex. */
  readonly cbor?: string;
  readonly hash: number;
  readonly totalWeight: number;
  readonly bucket: number;
  readonly buckets: readonly {
    readonly variant: unknown;
    readonly weight: number;
    readonly rangeEnd: number;
  }[];
  readonly variant: unknown;
}

/** A compiled rule: a total, synchronous function of the data. @internal */
export type Rule = (data: unknown, env: Env) => unknown;

/** What an operator's compile step may use. @internal */
export interface CompileScope {
  /** Compiles a sub-rule found at `path`. */
  compile(node: unknown, path: string): Rule;
  /**
   * Compiles a rule found elsewhere in the document (a shared evaluator at `path`) as a root of its
   * own: its depth counts from zero, so one compiled rule serves wherever it is referenced.
   */
  compileShared(node: unknown, path: string): Rule;
  /** Compiles `args[index]`, found at `path[index]` (the path is built only if it is ever named). */
  compileArg(args: readonly unknown[], index: number): Rule;
  /**
   * Compiles `args` (found at `path[offset]`, `path[offset + 1]`, …). Operators use this rather
   * than a closure over the scope, so the rules they return never keep the compilation alive.
   */
  compileAll(args: readonly unknown[], offset?: number): Rule[];
  /** The compile-time values of all `rules`, or `undefined` unless every one is constant. */
  constantsOf(rules: readonly Rule[]): unknown[] | undefined;
  /** The value of a rule known at compile time (a literal, or an operator folded over literals). */
  constantOf(rule: Rule): { readonly value: unknown } | undefined;
  /**
   * Marks `rule` as reading the data's own key `key` (`null` when absent, `undefined` or the data
   * is `null`), so operators over it may read the key themselves; returns `rule`.
   */
  keyReader(key: string, rule: Rule): Rule;
  /** The key a rule marked by {@link CompileScope.keyReader} reads (not once traced). */
  keyOf(rule: Rule): string | undefined;
  /**
   * Marks `rule` as `cat` of two rules: when both give strings, it gives their concatenation and
   * spends one unit per 64 characters of it; returns `rule`.
   */
  concatenation(parts: readonly [Rule, Rule], rule: Rule): Rule;
  /** The two rules a rule marked by {@link CompileScope.concatenation} concatenates. */
  concatenationOf(rule: Rule): readonly [Rule, Rule] | undefined;
  /** A rule that always returns `value`, known to {@link CompileScope.constantOf}. */
  constant(value: unknown): Rule;
  /** Reports a tolerated problem (a deprecated form) when the configuration loads. */
  warn(message: string): void;
  /** The JSON path of the operator being compiled, e.g. `targeting.if[0].in`. */
  readonly path: string;
  /** Whether this rule is compiled for `explain`: only then need operators keep their path. */
  readonly tracing: boolean;
}

/** An operator: how to compile `{"<name>": args}`. Throws {@link RuleError} for malformed rules. @internal */
export interface Operator {
  compile(args: readonly unknown[], scope: CompileScope): Rule;
  /**
   * Whether compiling these arguments may warn or throw for reasons of the operator's own (beyond
   * an unknown operator or nesting among the arguments, which are checked apart). A rule with no
   * such operator is compiled when first evaluated rather than at load. Absent: never.
   */
  mayWarn?(args: readonly unknown[]): boolean;
}

/** A rule that cannot be compiled (unknown operator, unresolved `$ref`, nesting too deep). */
export class RuleError extends Error {
  override readonly name = 'RuleError';
  constructor(
    /** What is wrong, without the path. */
    readonly detail: string,
    /** JSON path of the offending rule node. */
    readonly path: string,
    /** `unknown-operator`, `unknown-ref`, `ref-cycle`, `ref-form`, `max-depth` or `max-nodes`. */
    readonly rule: string,
  ) {
    super(`${path}: ${detail}`);
  }
}
