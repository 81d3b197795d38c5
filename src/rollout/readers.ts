import type { Counts } from '../stats/index.js';
import type { GuardrailCounts, StepEvidence } from './decide.js';
import type { Guardrail, RolloutPlan } from './plan.js';

/** What a reader is asked for: the flag's cohorts over one time window. */
export interface EvidenceQuery {
  readonly flag: string;
  readonly treatment: string;
  readonly control: string;
  /** The context attribute the rings are named by, and the rings on the treatment in this window. */
  readonly rings: { readonly attribute: string; readonly active: readonly string[] } | undefined;
  readonly guardrails: readonly Guardrail[];
  /** The window, in ms since the epoch: events after `from`, up to `to`. */
  readonly from: number;
  readonly to: number;
}

/** A window's counts per cohort and guardrail (a {@link StepEvidence} without its step). */
export type WindowEvidence = Omit<StepEvidence, 'step'>;

/**
 * Where a rollout's evidence comes from: Prometheus, the in-process outcome metrics, or a function.
 * Readers are a table of small implementations, like the evaluator's operators.
 */
export interface MetricReader {
  /** Describes the reader for messages and the audit log. */
  readonly source: string;
  read(query: EvidenceQuery): Promise<WindowEvidence>;
}

/** A query for a plan's flag over a window, with the rings `activeRings` on the treatment. */
export function queryFor(
  plan: RolloutPlan,
  activeRings: readonly string[],
  from: number,
  to: number,
): EvidenceQuery {
  return {
    flag: plan.flag,
    treatment: plan.treatment,
    control: plan.control,
    rings:
      plan.rings === undefined
        ? undefined
        : { attribute: plan.rings.attribute, active: activeRings },
    guardrails: plan.guardrails,
    from,
    to,
  };
}

/** A reader over any function: a database, a vendor API, a test's numbers. */
export function functionReader(
  read: (query: EvidenceQuery) => WindowEvidence | Promise<WindowEvidence>,
  source = 'function',
): MetricReader {
  return { source, read: async (query) => read(query) };
}

/** Cumulative counts of one flag's requests by variant and cohort, as the outcome recorder counts them. */
export interface OutcomeTotals {
  /** Requests, failed requests and requests slower than each bound, per variant and cohort. */
  readonly series: readonly {
    readonly variant: string;
    readonly cohort: string;
    readonly requests: number;
    readonly failures: number;
    /** Requests at or below each bound in ms (a histogram's cumulative buckets). */
    readonly atOrBelow: Readonly<Record<number, number>>;
  }[];
}

const ZERO: Counts = { bad: 0, total: 0 };

/** A series' requests at or below `bound`; throws when the histogram has no such bucket. */
function atOrBelow(series: OutcomeTotals['series'][number], bound: number): number {
  const count = series.atOrBelow[bound];
  if (count !== undefined) return count;
  const bounds = Object.keys(series.atOrBelow).join(', ');
  throw new RangeError(
    `slowerThanMs ${bound} is not a bucket bound of the request-duration histogram (${bounds || 'none'}): pick one of them`,
  );
}

/**
 * Folds outcome totals into a window's evidence: bucketed treatment, control, and the ring cohort
 * (treatment requests whose cohort label is an active ring). Guardrails `error-rate` and
 * `slow-rate` are read from them; a custom guardrail needs another reader.
 */
export function evidenceFromTotals(query: EvidenceQuery, totals: OutcomeTotals): WindowEvidence {
  const active = new Set(query.rings?.active ?? []);
  const cohorts = {
    treatment: {} as Record<string, Counts>,
    control: {} as Record<string, Counts>,
    ring: {} as Record<string, Counts>,
  };
  for (const g of query.guardrails) {
    cohorts.treatment[g.name] = ZERO;
    cohorts.control[g.name] = ZERO;
    cohorts.ring[g.name] = ZERO;
  }
  const exposures = { treatment: 0, control: 0 };
  for (const s of totals.series) {
    const inRing = active.has(s.cohort);
    const cohort =
      s.variant === query.treatment
        ? inRing
          ? 'ring'
          : 'treatment'
        : s.variant === query.control && !inRing
          ? 'control'
          : undefined;
    if (cohort === undefined) continue;
    if (cohort !== 'ring') exposures[cohort] += s.requests;
    for (const g of query.guardrails) {
      const bad =
        g.metric === 'error-rate'
          ? s.failures
          : g.metric === 'slow-rate'
            ? s.requests - atOrBelow(s, g.slowerThanMs as number)
            : undefined;
      if (bad === undefined) continue;
      const was = cohorts[cohort][g.name] as Counts;
      cohorts[cohort][g.name] = { bad: was.bad + bad, total: was.total + s.requests };
    }
  }
  return {
    treatment: cohorts.treatment,
    control: cohorts.control,
    ...(query.rings === undefined ? {} : { ring: cohorts.ring as GuardrailCounts }),
    exposures: { ...exposures, unit: 'requests' },
  };
}

/** Where in-process totals come from: `createOutcomeRecorder()` from rampflag/otel has this shape. */
export interface TotalsSource {
  totals(flagKey: string): OutcomeTotals['series'];
}

const seriesKey = (s: OutcomeTotals['series'][number]) => `${s.variant}\u0000${s.cohort}`;

/** `now − then`, series by series; undefined when a count went down (the totals were reset). */
function difference(now: OutcomeTotals['series'], then: OutcomeTotals['series']) {
  const before = new Map(then.map((s) => [seriesKey(s), s]));
  const out = [];
  for (const s of now) {
    const b = before.get(seriesKey(s));
    if (b === undefined) {
      out.push(s);
      continue;
    }
    const atOrBelow: Record<number, number> = {};
    for (const [bound, n] of Object.entries(s.atOrBelow))
      atOrBelow[Number(bound)] = n - (b.atOrBelow[Number(bound)] ?? 0);
    const d = {
      ...s,
      requests: s.requests - b.requests,
      failures: s.failures - b.failures,
      atOrBelow,
    };
    if (d.requests < 0 || d.failures < 0) return undefined;
    out.push(d);
  }
  return out;
}

/**
 * A reader over the outcome recorder of this process (a service that runs its own rollout, or a
 * test). The recorder's counts are cumulative and only "now" can be read, so the reader takes a
 * snapshot at every read, stamped by its clock, and answers a window with the difference between
 * the last snapshots at or before its end and its start (or, after a restart, the first one it has).
 * At most `maxSnapshots` are kept. A count that went down (the recorder was replaced) shows as
 * inconsistent counts, on which the decision holds.
 */
export function inProcessReader(
  recorder: TotalsSource,
  {
    maxSnapshots = 1000,
    clock = { now: () => Date.now() },
  }: { maxSnapshots?: number; clock?: { now(): number } } = {},
): MetricReader {
  const snapshots: { at: number; flag: string; series: OutcomeTotals['series'] }[] = [];
  const lastAtOrBefore = (flag: string, time: number) => {
    let found: (typeof snapshots)[number] | undefined;
    for (const s of snapshots) if (s.flag === flag && s.at <= time) found = s;
    return found;
  };
  return {
    source: 'in-process outcome recorder',
    async read(query) {
      snapshots.push({ at: clock.now(), flag: query.flag, series: recorder.totals(query.flag) });
      if (snapshots.length > maxSnapshots) snapshots.splice(0, snapshots.length - maxSnapshots);
      const first = snapshots.find((s) => s.flag === query.flag);
      const end = lastAtOrBefore(query.flag, query.to) ?? first;
      const start = lastAtOrBefore(query.flag, query.from) ?? first;
      const window =
        end === undefined || start === undefined ? [] : difference(end.series, start.series);
      if (window !== undefined) return evidenceFromTotals(query, { series: window });
      // a count went down: counts that cannot be real, on which each guardrail holds
      const reset = Object.fromEntries(
        query.guardrails.map((g) => [g.name, { bad: 0, total: -1 }]),
      );
      return { treatment: reset, control: reset };
    },
  };
}
