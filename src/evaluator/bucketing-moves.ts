import { createEvaluator, type Evaluator } from './evaluator.js';
import { isObject } from './json-path.js';
import { DEFAULT_LIMITS, readInput, type ConfigurationInput } from './load.js';
import { refName } from './ref-expansion.js';
import type { EvaluationResult, EvaluatorOptions, FractionalBucketing } from './types.js';

/** Options of {@link bucketingMoves}. */
export interface BucketingMovesOptions {
  /** The bucketing subjects have now, e.g. `'v2'`. */
  readonly from: FractionalBucketing;
  /** The bucketing they would have, e.g. `'v3'`. */
  readonly to: FractionalBucketing;
  /** The evaluation contexts to bucket, each under both bucketings. */
  readonly subjects: Iterable<object>;
  /** Options of both evaluators besides `fractional` (limits, clock, logger). */
  readonly evaluator?: Omit<EvaluatorOptions, 'fractional'>;
}

/** Subjects who get `from` under one bucketing and `to` under the other. */
export interface BucketingCell {
  /** A variant, or `(default)`, `(disabled)`, `(error: CODE)` when none applies. */
  readonly from: string;
  readonly to: string;
  readonly subjects: number;
  /** `subjects` over the subjects evaluated. */
  readonly share: number;
}

/** What switching the bucketing does to one flag with a `fractional`. */
export interface FlagBucketingMoves {
  readonly flag: string;
  readonly subjects: number;
  /** Subjects whose variant changes. */
  readonly moved: number;
  /** `moved` over `subjects`. */
  readonly share: number;
  /** The cells with `from !== to`, most subjects first. */
  readonly moves: readonly BucketingCell[];
  /** Every cell with a subject, stays included, by `from` then `to`. */
  readonly matrix: readonly BucketingCell[];
  /**
   * Subjects resolved with reason `DEFAULT` (the targeting gave `null`) under each bucketing. They
   * differ when a `fractional` buckets some subjects under one and not the other: v3 gives `null`
   * for a `null` bucketing value, where v2 falls back to the targeting key.
   */
  readonly defaults: { readonly from: number; readonly to: number };
}

/** What switching the bucketing does to a configuration, from {@link bucketingMoves}. */
export interface BucketingMoves {
  readonly from: FractionalBucketing;
  readonly to: FractionalBucketing;
  readonly subjects: number;
  /** The flags whose targeting (shared evaluators included) has a `fractional`, by key. */
  readonly flags: readonly FlagBucketingMoves[];
  /** The flags without a `fractional`: no bucketing moves them. By key. */
  readonly unaffected: readonly string[];
  /** Whether any subject of any flag moves. */
  readonly moved: boolean;
}

/** Counts subjects under two bucketings, one at a time; see {@link bucketingTally}. @internal */
export interface BucketingTally {
  /** The flags it evaluates (those with a `fractional`), by key. */
  readonly flags: readonly string[];
  /** Evaluates one subject under both bucketings. */
  add(context: object): void;
  /** The moves of the subjects added so far. */
  result(): BucketingMoves;
}

const FRACTIONAL = new Set(['fractional', 'fractionalEvaluation']);
const SEP = '\u0000';

/** What a subject got, labelled as `rampflag`'s tables label it. */
function labelOf(result: EvaluationResult<unknown>): string {
  if (result.variant !== undefined) return result.variant;
  if (result.reason === 'ERROR') return `(error: ${result.errorCode ?? 'GENERAL'})`;
  return result.reason === 'DISABLED' ? '(disabled)' : '(default)';
}

/**
 * Whether `rule` holds a `fractional` operator, following `$ref`s into `evaluators`. Iterative, and
 * each shared evaluator is visited once, so the walk is linear in the configuration's size.
 */
function hasFractional(rule: unknown, evaluators: ReadonlyMap<string, unknown>): boolean {
  const pending: unknown[] = [rule];
  const visited = new Set<string>();
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) {
      for (const item of node as unknown[]) pending.push(item);
      continue;
    }
    if (!isObject(node)) continue;
    const ref = refName(node, evaluators);
    if (ref !== undefined) {
      if (!visited.has(ref)) pending.push(evaluators.get(ref));
      visited.add(ref);
      continue;
    }
    const keys = Object.keys(node);
    if (keys.length === 1 && FRACTIONAL.has(keys[0] as string)) return true;
    for (const key of keys) pending.push(node[key]);
  }
  return false;
}

const byLabel = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Tally {
  readonly cells: Map<string, number>;
  readonly defaults: { from: number; to: number };
}

function flagMoves(flag: string, { cells, defaults }: Tally, n: number): FlagBucketingMoves {
  const share = (k: number) => (n === 0 ? 0 : k / n);
  const matrix: BucketingCell[] = [...cells]
    .map(([key, k]) => {
      const [from, to] = key.split(SEP) as [string, string];
      return { from, to, subjects: k, share: share(k) };
    })
    .sort((a, b) => byLabel(a.from, b.from) || byLabel(a.to, b.to));
  const moves = matrix
    .filter((cell) => cell.from !== cell.to)
    .sort((a, b) => b.subjects - a.subjects);
  const moved = moves.reduce((sum, cell) => sum + cell.subjects, 0);
  return {
    flag,
    subjects: n,
    moved,
    share: share(moved),
    moves,
    matrix,
    defaults: { ...defaults },
  };
}

function loaded(configuration: ConfigurationInput, options: EvaluatorOptions): Evaluator {
  const evaluator = createEvaluator(options);
  evaluator.setConfiguration(configuration);
  return evaluator;
}

/**
 * A tally of the subjects' variants under two bucketings, fed one subject at a time (the CLI
 * yields to the event loop between chunks). Throws as `setConfiguration` does for a bad
 * configuration, and a `RangeError` for an unknown bucketing. @internal
 */
export function bucketingTally(
  configuration: ConfigurationInput,
  options: Omit<BucketingMovesOptions, 'subjects'>,
): BucketingTally {
  const base = options.evaluator ?? {};
  const before = loaded(configuration, { ...base, fractional: options.from });
  const after = loaded(configuration, { ...base, fractional: options.to });
  const { flags, evaluators } = readInput(configuration, DEFAULT_LIMITS);
  const keys = flags.map((f) => f.definition.key).sort(byLabel);
  const split = new Set(
    flags.filter((f) => hasFractional(f.targeting, evaluators)).map((f) => f.definition.key),
  );
  const bucketed = keys.filter((key) => split.has(key));
  const tallies: Tally[] = bucketed.map(() => ({ cells: new Map(), defaults: { from: 0, to: 0 } }));
  let n = 0;
  return {
    flags: bucketed,
    add(context) {
      n++;
      bucketed.forEach((flag, i) => {
        const [a, b] = [before.resolveValue(flag, context), after.resolveValue(flag, context)];
        const { cells, defaults } = tallies[i] as Tally;
        const key = `${labelOf(a)}${SEP}${labelOf(b)}`;
        cells.set(key, (cells.get(key) ?? 0) + 1);
        if (a.reason === 'DEFAULT') defaults.from++;
        if (b.reason === 'DEFAULT') defaults.to++;
      });
    },
    result() {
      const moves = bucketed.map((flag, i) => flagMoves(flag, tallies[i] as Tally, n));
      return {
        from: options.from,
        to: options.to,
        subjects: n,
        flags: moves,
        unaffected: keys.filter((key) => !split.has(key)),
        moved: moves.some((m) => m.moved > 0),
      };
    },
  };
}

/**
 * Who would get another variant if `fractional` bucketing switched from `from` to `to` (flagd's v2
 * to v3, say): each subject is evaluated under both, for every flag whose targeting has a
 * `fractional` (through shared evaluators too). The others are listed as unaffected. Throws as
 * `setConfiguration` does for a bad configuration.
 *
 * @example
 * const subjects = users.map((u) => ({ targetingKey: u.id, plan: u.plan }));
 * const { flags } = bucketingMoves(readFileSync('flags.json', 'utf8'), {
 *   from: 'v2',
 *   to: 'v3',
 *   subjects,
 * });
 * for (const f of flags) console.log(`${f.flag}: ${(f.share * 100).toFixed(2)} % move`);
 */
export function bucketingMoves(
  configuration: ConfigurationInput,
  options: BucketingMovesOptions,
): BucketingMoves {
  const subjects = options?.subjects as unknown;
  if (typeof (subjects as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== 'function')
    throw new TypeError(
      'bucketingMoves: options.subjects must be the evaluation contexts to compare, e.g. [{ targetingKey: "u1" }]',
    );
  const tally = bucketingTally(configuration, options);
  for (const context of options.subjects) tally.add(context);
  return tally.result();
}
