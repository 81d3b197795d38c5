import { holm } from '../stats/index.js';
import { compareVariants, type RawComparison, type VariantSummary } from './compare.js';
import { ExperimentSourceError } from './errors.js';
import { levelText, signedPercent } from './format.js';
import type { ExperimentData, MetricData, MetricKind, VariantCounts } from './types.js';
import { srmOf, srmWarning, type SrmCheck } from './srm-check.js';
import { validateExperiment } from './validate.js';
import { outcomeOf, peekingWarning, verdictText, type Outcome } from './verdict.js';

/**
 * The default mixture scale τ of the anytime-valid test, on the relative lift: 0.05, a 5 % lift
 * (the usual minimum detectable effect). The confidence sequence is tightest for effects near τ;
 * set it to the lift the experiment was planned to detect.
 */
export const DEFAULT_TAU = 0.05;
/** Options of {@link analyzeExperiment}. */
export interface AnalyzeOptions {
  /** Significance level and 1 − confidence of every interval. Default 0.05. */
  readonly alpha?: number;
  /** The mixture scale of the anytime-valid test, on the relative lift. Default {@link DEFAULT_TAU}. */
  readonly tau?: number;
  /**
   * Decide on the anytime-valid test (true, the default: safe to read every day) or on the
   * fixed-horizon z/Welch test (valid only at the one sample size planned in advance).
   */
  readonly sequential?: boolean;
}

/** A treatment against the control on one metric, corrected and judged. */
export interface Comparison extends RawComparison {
  readonly metric: string;
  readonly kind: MetricKind;
  /** Holm-adjusted p-values across every (variant, metric) pair, per test. */
  readonly adjusted: {
    readonly fixed: number | undefined;
    readonly sequential: number | undefined;
  };
  readonly outcome: Outcome;
  /** e.g. `B better than A on purchase: +4.1 % (95 % CI +1.2 % … +7.0 %), sequential p = 0.01`. */
  readonly verdict: string;
  /** When the fixed-horizon and the sequential test disagree (peeking). */
  readonly warning: string | undefined;
}

/** Every variant of one metric. */
export interface MetricAnalysis {
  readonly metric: string;
  readonly kind: MetricKind;
  /** The control first. */
  readonly variants: readonly VariantSummary[];
}

/** The relative lift's interval of one variant on one metric at one time. */
export interface LiftPoint {
  readonly metric: string;
  readonly variant: string;
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

/** An experiment's analysis. */
export interface ExperimentAnalysis {
  readonly flag: string;
  readonly control: string;
  readonly alpha: number;
  readonly tau: number;
  readonly sequential: boolean;
  readonly metrics: readonly MetricAnalysis[];
  /** Every (variant, metric) pair, metric by metric. */
  readonly comparisons: readonly Comparison[];
  readonly srm: SrmCheck;
  /** SRM, peeking and data warnings, for people. */
  readonly warnings: readonly string[];
  /**
   * The relative lift's interval at each time of `data.series` (sequential when deciding so, else
   * fixed-horizon; each at 1 − α, uncorrected), for charts.
   */
  readonly timeline: readonly { readonly time: string; readonly lifts: readonly LiftPoint[] }[];
}

/** The control first, then the others in the order given. */
function ordered(metric: MetricData, control: string): VariantCounts[] {
  const own = metric.variants.find((v) => v.variant === control) as VariantCounts;
  return [own, ...metric.variants.filter((v) => v.variant !== control)];
}

function timelineOf(
  data: ExperimentData,
  alpha: number,
  tau: number,
  sequential: boolean,
): ExperimentAnalysis['timeline'] {
  return (data.series ?? []).map((point) => ({
    time: point.time,
    lifts: point.metrics.flatMap((metric) => {
      if (!metric.variants.some((v) => v.variant === data.control)) return [];
      const [control, ...others] = ordered(metric, data.control);
      return others.flatMap((treatment) => {
        const raw = compareVariants(metric.kind, control as VariantCounts, treatment, alpha, tau);
        const lift = sequential ? raw.sequential?.relative : raw.relative;
        return lift === undefined
          ? []
          : [{ metric: metric.metric, variant: treatment.variant, ...lift }];
      });
    }),
  }));
}

/** Holm-adjusted p-values of the defined ones, in place; undefined stays undefined. */
function holmOf(pValues: readonly (number | undefined)[], alpha: number): (number | undefined)[] {
  const defined = pValues.flatMap((p, i) => (p === undefined ? [] : [{ p, i }]));
  const { adjusted } = holm(
    defined.map((d) => d.p),
    alpha,
  );
  const out: (number | undefined)[] = pValues.map(() => undefined);
  defined.forEach((d, k) => (out[d.i] = adjusted[k]));
  return out;
}

const finite = (p: number | undefined) => (p !== undefined && Number.isFinite(p) ? p : undefined);

/**
 * Analyses an experiment: for every metric and every variant against the control, the rate (with
 * its Wilson interval) or the mean per user (t interval); the absolute lift (Wald, or Welch for
 * means) and the relative lift (delta method) with their intervals; the fixed-horizon test (the
 * two-proportion z-test with pooled standard error, or Welch's t-test; two-tailed); the anytime-
 * valid confidence sequence of the relative lift (mixture SPRT, τ on the relative lift) and its
 * always-valid p-value; Holm's correction across all (variant, metric) pairs; a verdict for each;
 * and a sample-ratio-mismatch check of the users assigned against the expected shares.
 *
 * Throws an {@link ExperimentSourceError} for data that cannot be analysed (no metrics, a metric
 * without the control or without another variant, negative counts, more conversions than users).
 *
 * @example
 * const analysis = analyzeExperiment({
 *   flag: 'checkout', control: 'off',
 *   metrics: [{ metric: 'purchase', kind: 'conversion', variants: [
 *     { variant: 'off', users: 10_000, conversions: 1_000 },
 *     { variant: 'on', users: 10_000, conversions: 1_200 } ] }],
 * });
 * console.log(analysis.comparisons[0]?.verdict);
 * // on better than off on purchase: +20.0 % (95 % CI +2.5 % … +37.5 %), sequential p = 0.02
 */
export function analyzeExperiment(
  data: ExperimentData,
  options: AnalyzeOptions = {},
): ExperimentAnalysis {
  const alpha = options.alpha ?? 0.05;
  const tau = options.tau ?? DEFAULT_TAU;
  const sequential = options.sequential ?? true;
  if (!(alpha > 0 && alpha < 1))
    throw new ExperimentSourceError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(tau > 0 && Number.isFinite(tau)))
    throw new ExperimentSourceError(`tau must be a positive number, got ${tau}`);
  validateExperiment(data);
  const raws = data.metrics.flatMap((metric, index) => {
    const [control, ...others] = ordered(metric, data.control);
    return others.map((treatment) => ({
      metric,
      index,
      raw: compareVariants(metric.kind, control as VariantCounts, treatment, alpha, tau),
    }));
  });
  const fixed = holmOf(
    raws.map((r) => finite(r.raw.fixed?.pValue)),
    alpha,
  );
  const seq = holmOf(
    raws.map((r) => finite(r.raw.sequential?.pValue)),
    alpha,
  );
  const family = raws.filter((_, i) => (sequential ? seq[i] : fixed[i]) !== undefined).length;
  const comparisons = raws.map(({ metric, raw }, i): Comparison => {
    const input = {
      metric: metric.metric,
      kind: metric.kind,
      lowerIsBetter: metric.lowerIsBetter === true,
      raw,
      alpha,
      sequential,
      adjusted: sequential ? seq[i] : fixed[i],
      family,
    };
    const outcome = outcomeOf(input);
    return {
      metric: metric.metric,
      kind: metric.kind,
      ...raw,
      adjusted: { fixed: fixed[i], sequential: seq[i] },
      outcome,
      verdict: verdictText(input, outcome),
      warning: sequential ? peekingWarning(input) : undefined,
    };
  });
  const srm = srmOf(data);
  const warnings = [
    ...(srm.mismatch ? [srmWarning(srm)] : []),
    ...(data.notes ?? []),
    ...comparisons.flatMap((c) => (c.warning === undefined ? [] : [c.warning])),
  ];
  return {
    flag: data.flag,
    control: data.control,
    alpha,
    tau,
    sequential,
    metrics: data.metrics.map((m, k) => {
      const own = comparisons.filter((_, i) => raws[i]?.index === k);
      return {
        metric: m.metric,
        kind: m.kind,
        variants: [...own.slice(0, 1).map((c) => c.control), ...own.map((c) => c.treatment)],
      };
    }),
    comparisons,
    srm,
    warnings,
    timeline: timelineOf(data, alpha, tau, sequential),
  };
}

/** The analysis' headline for people: `checkout: 2 variants, 1 metric, 95 % intervals, τ = 5 %`. */
export function analysisHeadline(analysis: ExperimentAnalysis): string {
  const variants = analysis.metrics[0]?.variants.length ?? 0;
  const m = analysis.metrics.length;
  const test = analysis.sequential
    ? `anytime-valid (τ = ${signedPercent(analysis.tau).slice(1)} relative lift)`
    : 'fixed-horizon';
  return `${analysis.flag}: ${variants} variants (control ${analysis.control}), ${m} metric${m === 1 ? '' : 's'}, ${levelText(analysis.alpha)} intervals, ${test} decisions, Holm-corrected`;
}
