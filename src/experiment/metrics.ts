/**
 * The experiment metrics' names: as the tracking recorder exports them through OpenTelemetry, and
 * as Prometheus stores them.
 */

/**
 * The OpenTelemetry metrics of experiment tracking. All are monotonic counters with the labels of
 * {@link EXPERIMENT_LABELS}: `feature_flag.key` and `feature_flag.result.variant` on each, and
 * `event` (the tracking event's name) on all but exposures.
 */
export const EXPERIMENT_METRICS = {
  /**
   * Distinct users assigned each variant of an experiment flag (its exposures): evaluated into it,
   * or tracked with it, so that every converter is among them.
   */
  exposures: 'feature_flag.experiment.exposures',
  /** Distinct users attributed at least one event of the name (its converters). */
  conversions: 'feature_flag.experiment.conversions',
  /** Events attributed to the variant, with or without a targeting key. */
  events: 'feature_flag.experiment.events',
  /** The sum of the events' `value` over users (events with a targeting key). */
  value: 'feature_flag.experiment.value',
  /** The sum over users of each user's value total squared (for the variance of a mean metric). */
  valueSquares: 'feature_flag.experiment.value_squares',
} as const;

/** The labels (attribute names) of the experiment metrics. */
export const EXPERIMENT_LABELS = {
  key: 'feature_flag.key',
  variant: 'feature_flag.result.variant',
  event: 'event',
} as const;

/**
 * The experiment metrics as Prometheus names them after `@opentelemetry/exporter-prometheus` (or the
 * OpenTelemetry Collector's Prometheus exporter): dots become underscores and counters take
 * `_total`. Their units are annotations (`{user}`, `{event}`) or none, so no unit suffix is added.
 */
export const EXPERIMENT_SERIES = {
  exposures: 'feature_flag_experiment_exposures_total',
  conversions: 'feature_flag_experiment_conversions_total',
  events: 'feature_flag_experiment_events_total',
  value: 'feature_flag_experiment_value_total',
  valueSquares: 'feature_flag_experiment_value_squares_total',
  key: 'feature_flag_key',
  variant: 'feature_flag_result_variant',
  event: 'event',
} as const;

/**
 * The name of the mean metric (value per user) of an event: `purchase` → `purchase.value`. The
 * conversion metric of an event is the event's name itself.
 */
export function valueMetricName(event: string): string {
  return `${event}.value`;
}

/**
 * The part of an OpenTelemetry `Meter` the tracking recorder uses: an `@opentelemetry/api` `Meter`
 * is one, and `rampflag/experiment` needs no OpenTelemetry package.
 */
export interface CounterMeter {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { add(value: number, attributes?: Readonly<Record<string, string>>): void };
}

/** The recorder's counters (each a no-op without a meter). @internal */
export interface ExperimentCounters {
  readonly exposures: Adder;
  readonly conversions: Adder;
  readonly events: Adder;
  readonly value: Adder;
  readonly valueSquares: Adder;
}

type Adder = { add(value: number, attributes: Readonly<Record<string, string>>): void };

const NONE: Adder = { add() {} };

/** The counters of {@link EXPERIMENT_METRICS} on `meter`. @internal */
export function experimentCounters(meter: CounterMeter | undefined): ExperimentCounters {
  if (meter === undefined)
    return { exposures: NONE, conversions: NONE, events: NONE, value: NONE, valueSquares: NONE };
  const { exposures, conversions, events, value, valueSquares } = EXPERIMENT_METRICS;
  return {
    exposures: meter.createCounter(exposures, {
      description:
        'Distinct users assigned each variant of an experiment flag (evaluated or tracked)',
      unit: '{user}',
    }),
    conversions: meter.createCounter(conversions, {
      description: 'Distinct users with at least one event, per experiment variant',
      unit: '{user}',
    }),
    events: meter.createCounter(events, {
      description: 'Tracking events attributed to each experiment variant',
      unit: '{event}',
    }),
    value: meter.createCounter(value, {
      description: "Sum of tracking events' values over users, per experiment variant",
    }),
    valueSquares: meter.createCounter(valueSquares, {
      description: "Sum over users of each user's value total squared, per experiment variant",
    }),
  };
}
