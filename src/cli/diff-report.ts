import type { RangeMove } from '../evaluator/bucket-ranges.js';
import { isObject } from '../evaluator/json-path.js';
import { canonicalJson } from './canonical-json.js';
import type { Aspect, FlagChange, FlagsDiff } from './diff-flags.js';
import type { SampleOutcome } from './diff-impact.js';
import { causeWarning, renameWarning, type RebucketWarning } from './diff-warnings.js';
import { fractionalsIn } from './fractionals.js';
import { exactMoves, rebucketCauses, treatmentsOf, type RenameCandidate } from './rebucketing.js';

type Json = Record<string, unknown>;

/** Subjects who get `from` before and `to` after. */
export interface Move {
  readonly from: string;
  readonly to: string;
  /** Of the subjects evaluated. */
  readonly subjects: number;
  /** `subjects` over the subjects evaluated. */
  readonly share: number;
  /** From the bucket ranges, when the change allows it: the share of all subjects. */
  readonly exactShare?: number;
}

/** A changed flag: what changed, who moves, and what re-buckets. */
export interface ChangedFlagReport {
  readonly flag: string;
  readonly aspects: readonly Aspect[];
  readonly details: readonly string[];
  /** `exact`: moves from the bucket ranges; `estimated`: from the subjects evaluated. */
  readonly basis: 'exact' | 'estimated';
  readonly moves: readonly Move[];
  /** Variants whose value changed, and how many subjects get them after the change. */
  readonly valueChanges: readonly {
    readonly variant: string;
    readonly subjects: number;
    readonly share: number;
  }[];
  readonly warnings: readonly RebucketWarning[];
}

/** A removed flag that looks renamed to an added one. */
export interface RenameReport {
  readonly from: string;
  readonly to: string;
  readonly moves: readonly Move[];
  readonly warnings: readonly RebucketWarning[];
}

/** Everything `rampflag diff` reports. */
export interface DiffReport {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly ChangedFlagReport[];
  readonly renamed: readonly RenameReport[];
  /** Every re-bucketing warning, changed flags' then renames'. */
  readonly warnings: readonly RebucketWarning[];
  /** Whether any change re-buckets subjects who had a treatment. */
  readonly rebucketing: boolean;
  /** Whether anything was added, removed or changed. */
  readonly changes: boolean;
}

/** The moves (not the stays) of a sample, with exact shares where the ranges give them. */
function movesOf(outcome: SampleOutcome, exact: readonly RangeMove[] | undefined): Move[] {
  const sampled = new Map(outcome.pairs.map((p) => [`${p.from}\u0000${p.to}`, p.subjects]));
  const share = (n: number) => (outcome.subjects === 0 ? 0 : n / outcome.subjects);
  const moves: Move[] = [];
  for (const move of exact ?? []) {
    if (move.from === move.to || move.hashes === 0) continue;
    const key = `${move.from}\u0000${move.to}`;
    const n = sampled.get(key) ?? 0;
    sampled.delete(key);
    moves.push({
      from: move.from,
      to: move.to,
      subjects: n,
      share: share(n),
      exactShare: move.share,
    });
  }
  for (const pair of outcome.pairs) {
    if (pair.from === pair.to || !sampled.has(`${pair.from}\u0000${pair.to}`)) continue;
    moves.push({
      from: pair.from,
      to: pair.to,
      subjects: pair.subjects,
      share: share(pair.subjects),
    });
  }
  return moves.sort((a, b) => (b.exactShare ?? b.share) - (a.exactShare ?? a.share));
}

/** The variants whose value changed, with the subjects who get them after the change. */
function valueChanges(before: Json, after: Json, outcome: SampleOutcome) {
  const [a, b] = [before['variants'], after['variants']];
  if (!isObject(a) || !isObject(b)) return [];
  return Object.keys(a)
    .filter((v) => Object.hasOwn(b, v) && canonicalJson(a[v]) !== canonicalJson(b[v]))
    .map((variant) => {
      const n = outcome.pairs
        .filter((p) => p.to === variant)
        .reduce((sum, p) => sum + p.subjects, 0);
      return { variant, subjects: n, share: outcome.subjects === 0 ? 0 : n / outcome.subjects };
    });
}

/** The share of everybody a whole-targeting split gives the variants, before the change. */
function hadShare(
  exact: readonly RangeMove[] | undefined,
  variants: readonly string[],
): number | undefined {
  if (exact === undefined) return undefined;
  return exact.filter((m) => variants.includes(m.from)).reduce((sum, m) => sum + m.share, 0);
}

function changedReport(
  change: FlagChange,
  before: Json,
  after: Json,
  outcome: SampleOutcome,
): ChangedFlagReport {
  const exact = exactMoves(before, after);
  const warnings = rebucketCauses(before, after)
    .map((cause) =>
      causeWarning(
        change.flag,
        cause,
        outcome,
        cause.whole ? hadShare(exact, cause.variants) : undefined,
      ),
    )
    .filter((w): w is RebucketWarning => w !== undefined);
  return {
    ...change,
    basis: exact === undefined ? 'estimated' : 'exact',
    moves: movesOf(outcome, exact),
    valueChanges: valueChanges(before, after, outcome),
    warnings,
  };
}

function renameReport(rename: RenameCandidate, before: Json, outcome: SampleOutcome): RenameReport {
  const treatments = [...treatmentsOf(before)];
  const split = fractionalsIn(before['targeting']).find((node) => node.path === rename.path);
  const warning = renameWarning(rename, treatments, outcome, split?.key === undefined);
  return {
    from: rename.from,
    to: rename.to,
    moves: movesOf(outcome, undefined),
    warnings: warning === undefined ? [] : [warning],
  };
}

/**
 * The report of a diff: `outcomes` holds the sample of each changed flag, in `diff.changed` order,
 * then of each rename.
 */
export function diffReport(
  diff: FlagsDiff,
  renames: readonly RenameCandidate[],
  flags: { readonly before: ReadonlyMap<string, Json>; readonly after: ReadonlyMap<string, Json> },
  outcomes: readonly SampleOutcome[],
): DiffReport {
  const none: SampleOutcome = { subjects: 0, pairs: [], before: new Map() };
  const changed = diff.changed.map((change, i) =>
    changedReport(
      change,
      flags.before.get(change.flag) as Json,
      flags.after.get(change.flag) as Json,
      outcomes[i] ?? none,
    ),
  );
  const renamed = renames.map((rename, i) =>
    renameReport(
      rename,
      flags.before.get(rename.from) as Json,
      outcomes[diff.changed.length + i] ?? none,
    ),
  );
  const warnings = [...changed, ...renamed].flatMap((r) => r.warnings);
  return {
    added: diff.added,
    removed: diff.removed,
    changed,
    renamed,
    warnings,
    rebucketing: warnings.length > 0,
    changes: diff.added.length + diff.removed.length + diff.changed.length > 0,
  };
}
