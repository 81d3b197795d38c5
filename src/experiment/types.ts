/**
 * The input model of experiment analysis: per-variant counts of one flag's experiment, whatever
 * they were read from (a counts file, the in-process tracking recorder, Prometheus).
 */

/** One variant's counts for one metric. */
export interface VariantCounts {
  readonly variant: string;
  /** Users assigned to the variant (exposures): the denominator of every rate and mean. */
  readonly users: number;
  /** Users with at least one event of the metric (converters). */
  readonly conversions: number;
  /** Sum over users of each user's value (e.g. revenue): the numerator of a mean metric. */
  readonly valueSum?: number;
  /** Sum over users of each user's value squared (a user's value is the sum of their events'). */
  readonly valueSumSquares?: number;
}

/** What a metric measures: the share of users who convert, or the mean value per user. */
export type MetricKind = 'conversion' | 'mean';

/** One metric's counts, every variant (the control among them). */
export interface MetricData {
  readonly metric: string;
  readonly kind: MetricKind;
  readonly variants: readonly VariantCounts[];
  /** Lower values are better (refunds, errors): verdicts say "better" for a decrease. Default false. */
  readonly lowerIsBetter?: boolean;
}

/** Cumulative counts at one time, since the experiment started (for charts of the lift over time). */
export interface SeriesPoint {
  /** An ISO time. */
  readonly time: string;
  readonly metrics: readonly MetricData[];
}

/** An experiment's counts: the shape every reader returns and `analyzeExperiment` reads. */
export interface ExperimentData {
  /** The flag whose variants are compared. */
  readonly flag: string;
  /** The variant the others are compared with. */
  readonly control: string;
  readonly metrics: readonly MetricData[];
  /**
   * Users assigned per variant, for the sample-ratio-mismatch check. Default: the users of the
   * first metric.
   */
  readonly assignment?: Readonly<Record<string, number>>;
  /**
   * The share of users each variant should get (weights in any unit: `{ a: 50, b: 50 }`), from the
   * flag's `fractional` weights when known. Default: equal shares.
   */
  readonly expectedShares?: Readonly<Record<string, number>>;
  /** Cumulative counts over time, oldest first (optional; for the chart). */
  readonly series?: readonly SeriesPoint[];
  /** What the reader wants said with the analysis (e.g. counts that stopped growing); in its warnings. */
  readonly notes?: readonly string[];
}
