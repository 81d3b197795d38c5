import type { FlagDefinition } from './configuration.js';
import type { FractionalDecision, TraceEntry } from './rule.js';
import type { EvaluationResult } from './types.js';

/** One operator in a rule and what it evaluated to, in evaluation order (innermost first). */
export interface ExplainStep {
  /** JSON path of the rule node, e.g. `flags["new-ui"].targeting.if[0]`. */
  readonly path: string;
  readonly operator: string;
  readonly result: unknown;
}

/** How a flag resolved for one context, and why. */
export interface Explanation {
  readonly flagKey: string;
  readonly found: boolean;
  readonly state?: 'ENABLED' | 'DISABLED';
  /** `null` when the flag has no default variant (the caller's default applies). */
  readonly defaultVariant?: string | null;
  readonly variants?: Readonly<Record<string, unknown>>;
  readonly targeting?: unknown;
  /** The resolution, not checked against any requested type. */
  readonly result: EvaluationResult<unknown>;
  readonly steps: readonly ExplainStep[];
  /** Each `fractional` decision: bucketing key, MurmurHash3, bucket, weight table and variant. */
  readonly fractional: readonly (FractionalDecision & { readonly path: string })[];
}

/** Assembles an explanation from a resolution and the trace its evaluation left. @internal */
export function explanation(
  flagKey: string,
  definition: FlagDefinition | undefined,
  targeting: unknown,
  result: EvaluationResult<unknown>,
  trace: readonly TraceEntry[],
): Explanation {
  const steps: ExplainStep[] = [];
  const fractional: (FractionalDecision & { path: string })[] = [];
  for (const entry of trace) {
    if (entry.kind === 'node')
      steps.push({ path: entry.path, operator: entry.operator, result: entry.result });
    else {
      const { kind: _kind, ...decision } = entry;
      fractional.push(decision);
    }
  }
  if (definition === undefined) return { flagKey, found: false, result, steps, fractional };
  return {
    flagKey,
    found: true,
    state: definition.state,
    defaultVariant: definition.defaultVariant ?? null,
    variants: definition.variants,
    targeting,
    result,
    steps,
    fractional,
  };
}
