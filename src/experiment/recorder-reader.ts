import { ExperimentSourceError } from './errors.js';
import type { TrackingRecorder } from './tracking.js';
import type { ExperimentData } from './types.js';

/** Options of {@link fromRecorder}. */
export interface RecorderReadOptions {
  /** The control variant. Default: the recorder's (the first variant by name). */
  readonly control?: string;
  /**
   * The expected split for the SRM check: the flag's `fractional` weights, e.g. `{ on: 50, off: 50 }`
   * (see {@link expectedSharesOf}). Default: equal shares.
   */
  readonly expectedShares?: Readonly<Record<string, number>>;
}

/**
 * An experiment's counts from the in-process tracking recorder (`recorder.totals(flag)`): per
 * event a conversion metric and, for events with values, a mean metric `<event>.value`; the users
 * exposed per variant as the assignment. When the flag outgrew the recorder's `maxUsersPerFlag`,
 * a note says the counts stopped growing. Throws an {@link ExperimentSourceError} when the
 * recorder has no exposures for the flag.
 *
 * @example
 * const analysis = analyzeExperiment(fromRecorder(tracking, 'checkout', { control: 'off' }));
 */
export function fromRecorder(
  recorder: Pick<TrackingRecorder, 'totals'>,
  flag: string,
  options: RecorderReadOptions = {},
): ExperimentData {
  const totals = recorder.totals(flag, options.control);
  const exposed = Object.values(totals.assignment).reduce((a, n) => a + n, 0);
  if (exposed === 0)
    throw new ExperimentSourceError(
      `the tracking recorder has no exposures for flag "${flag}" (is it an experiment, and evaluated with a targeting key?)`,
    );
  return {
    flag: totals.flag,
    control: totals.control,
    metrics: totals.metrics,
    assignment: totals.assignment,
    ...(options.expectedShares === undefined ? {} : { expectedShares: options.expectedShares }),
    ...(totals.overflowed
      ? {
          notes: [
            `The tracking recorder reached its maxUsersPerFlag for "${flag}": users seen since are in no count, so the counts cover the earlier users only.`,
          ],
        }
      : {}),
  };
}

/**
 * The expected shares of a flag whose whole targeting is one `fractional` with literal variants
 * and weights (`{"fractional": [["on", 50], ["off", 50]]}`, a bucketing expression first or
 * not), e.g. `{ on: 50, off: 50 }`; `undefined` for any other targeting.
 */
export function expectedSharesOf(flag: unknown): Record<string, number> | undefined {
  const targeting = (flag as { targeting?: unknown } | null)?.targeting;
  if (typeof targeting !== 'object' || targeting === null) return undefined;
  const keys = Object.keys(targeting);
  if (keys.length !== 1 || keys[0] !== 'fractional') return undefined;
  const args = (targeting as { fractional?: unknown }).fractional;
  if (!Array.isArray(args)) return undefined;
  const buckets = args.length > 0 && !Array.isArray(args[0]) ? args.slice(1) : args;
  const shares: Record<string, number> = {};
  for (const bucket of buckets) {
    if (!Array.isArray(bucket) || typeof bucket[0] !== 'string') return undefined;
    const weight: unknown = bucket.length > 1 ? bucket[1] : 1;
    if (typeof weight !== 'number' || !(weight >= 0)) return undefined;
    shares[bucket[0]] = (shares[bucket[0]] ?? 0) + weight;
  }
  return Object.keys(shares).length > 0 ? shares : undefined;
}
