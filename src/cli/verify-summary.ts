import type { VerifyProtocol } from './verify-replicas.js';
import type { ReplicaRound } from './verify-round.js';

/** One replica in a check: its variants, and how often it disagrees with the others. */
export interface ReplicaSummary {
  readonly url: string;
  readonly protocol: VerifyProtocol;
  /** Why it could not be checked; its counts are then empty. */
  readonly failure?: string;
  /** Subjects per outcome (a variant, `(none)` or `(error CODE)`). */
  readonly counts: ReadonlyMap<string, number>;
  /** Subjects on which its outcome is not the one most replicas give (every one, in a tie). */
  readonly disagreements: number;
}

/** A subject whose outcome differs between replicas: each replica's outcome, in their order. */
export interface Difference {
  readonly subject: number;
  readonly outcomes: readonly (string | undefined)[];
}

/** What one check found. */
export interface VerifySummary {
  readonly subjects: number;
  /** Every outcome seen, the most frequent first. */
  readonly variants: readonly string[];
  readonly replicas: readonly ReplicaSummary[];
  /** Subjects whose outcome differs between the replicas that answered. */
  readonly differing: number;
  /** The first of them, at most as many as asked for. */
  readonly examples: readonly Difference[];
  /** Replicas that could not be checked. */
  readonly unreachable: number;
}

/** `--expect <variant>=<percent>`: the share a variant should have on every replica. */
export interface Expectation {
  readonly variant: string;
  readonly percent: number;
}

/** An expectation against a check: each replica's share (undefined: not checked), and whether all match. */
export interface ExpectationResult extends Expectation {
  /** How far (percentage points) a share may be from `percent` and match. */
  readonly tolerance: number;
  readonly shares: readonly (number | undefined)[];
  readonly met: boolean;
}

/** A check's verdict, worst first: a replica unreachable, replicas disagreeing, an expectation unmet. */
export type Verdict = 'unreachable' | 'inconsistent' | 'unmet' | 'consistent';

/** Counts outcomes per replica and compares replicas subject by subject. Pure. */
export function summarize(
  rounds: readonly ReplicaRound[],
  subjects: number,
  shown: number,
): VerifySummary {
  const answered = rounds.filter((r) => r.failure === undefined);
  const counts = rounds.map(() => new Map<string, number>());
  const disagreements = rounds.map(() => 0);
  const totals = new Map<string, number>();
  const examples: Difference[] = [];
  let differing = 0;
  for (let s = 0; s < subjects; s++) {
    const tally = new Map<string, number>();
    rounds.forEach((round, r) => {
      const outcome = round.outcomes[s];
      if (round.failure !== undefined || outcome === undefined) return;
      (counts[r] as Map<string, number>).set(outcome, (counts[r]?.get(outcome) ?? 0) + 1);
      totals.set(outcome, (totals.get(outcome) ?? 0) + 1);
      tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
    });
    if (tally.size <= 1) continue;
    differing++;
    if (examples.length < shown)
      examples.push({ subject: s, outcomes: rounds.map((r) => r.outcomes[s]) });
    const top = Math.max(...tally.values());
    const unique = [...tally.values()].filter((n) => n === top).length === 1;
    rounds.forEach((round, r) => {
      const outcome = round.outcomes[s];
      if (round.failure !== undefined || outcome === undefined) return;
      if (!unique || tally.get(outcome) !== top) disagreements[r] = (disagreements[r] ?? 0) + 1;
    });
  }
  return {
    subjects,
    variants: [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([v]) => v),
    replicas: rounds.map((round, r) => ({
      url: round.replica.url,
      protocol: round.replica.protocol,
      ...(round.failure === undefined ? {} : { failure: round.failure }),
      counts: counts[r] as Map<string, number>,
      disagreements: disagreements[r] as number,
    })),
    differing,
    examples,
    unreachable: rounds.length - answered.length,
  };
}

/**
 * The default tolerance of `--expect`, in percentage points: the half-width of a 99.9 % binomial
 * interval (3.29 standard errors) for a share of `percent` over `n` subjects. The shares of
 * `fractional` weights over a sample of subjects scatter that much around the weights.
 */
export function defaultTolerance(percent: number, n: number): number {
  const p = percent / 100;
  return n > 0 ? 329 * Math.sqrt((p * (1 - p)) / n) : 0;
}

/** A replica's share (%) of the subjects with `variant`; undefined when it was not checked. */
export function shareOf(
  replica: ReplicaSummary,
  variant: string,
  subjects: number,
): number | undefined {
  if (replica.failure !== undefined || subjects === 0) return undefined;
  return ((replica.counts.get(variant) ?? 0) / subjects) * 100;
}

/** Each expectation against a check: met when every replica checked is within the tolerance. Pure. */
export function checkExpectations(
  summary: VerifySummary,
  expectations: readonly Expectation[],
  tolerance: number | undefined,
): ExpectationResult[] {
  return expectations.map((e) => {
    const within = tolerance ?? defaultTolerance(e.percent, summary.subjects);
    const shares = summary.replicas.map((r) => shareOf(r, e.variant, summary.subjects));
    const met = shares.every((s) => s === undefined || Math.abs(s - e.percent) <= within + 1e-9);
    return { ...e, tolerance: within, shares, met };
  });
}

/** The verdict of a check. Pure. */
export function verdictOf(
  summary: VerifySummary,
  expectations: readonly ExpectationResult[],
): Verdict {
  if (summary.unreachable > 0) return 'unreachable';
  if (summary.differing > 0) return 'inconsistent';
  return expectations.every((e) => e.met) ? 'consistent' : 'unmet';
}
