import { EXPERIMENT_LABELS, valueMetricName, type ExperimentCounters } from './metrics.js';
import type { ExperimentData, MetricData, VariantCounts } from './types.js';
import { UserTable, type UserBudget } from './user-table.js';

/** One flag's tracked counts: {@link ExperimentData} and what else the recorder knows. */
export interface TrackingTotals extends ExperimentData {
  /** Exposures per variant (the same as `assignment`, always present). */
  readonly assignment: Readonly<Record<string, number>>;
  /**
   * The flag reached `maxUsersPerFlag`: users seen after that are in no count (exposures,
   * conversions, values), though their events still count in `events`.
   */
  readonly overflowed: boolean;
  /** Events attributed, by event name then variant, with or without a targeting key. */
  readonly events: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

interface EventTally {
  readonly converters: UserTable;
  readonly labels: Readonly<Record<string, string>>;
  events: number;
  valueSum: number;
  valueSumSquares: number;
  hasValues: boolean;
}

interface VariantTally {
  readonly exposed: UserTable;
  readonly labels: Readonly<Record<string, string>>;
  readonly events: Map<string, EventTally>;
}

/**
 * One experiment flag's counts per variant: exposed users, and per event name the events, the
 * converters and each converter's value total. Users are 32-bit hashes; the flag's exposures hold
 * at most `maxUsers` of them, and its converters (all events together) as many again.
 * @internal
 */
export class FlagTally {
  readonly #key: string;
  readonly #counters: ExperimentCounters;
  readonly #exposures: UserBudget;
  readonly #converters: UserBudget;
  readonly #variants = new Map<string, VariantTally>();

  constructor(key: string, maxUsers: number, counters: ExperimentCounters) {
    this.#key = key;
    this.#counters = counters;
    this.#exposures = { max: maxUsers, used: 0, overflowed: false };
    this.#converters = { max: maxUsers, used: 0, overflowed: false };
  }

  /** An exposure of `user` to `variant`: counted once per user and variant. */
  expose(variant: string, user: number): void {
    this.#expose(this.#variant(variant), user);
  }

  /**
   * An event attributed to `variant`: always an event; with a user, an exposure of that user
   * (intention to treat: the user is assigned the variant whether or not an evaluation here showed
   * it, so every converter is among the variant's users), a converter (once per user) and, with a
   * value, the user's value total (sum and sum of squares over users kept exact). A user past
   * `maxUsers` is in no count. Returns false when the value was refused because a sum would
   * overflow to ∞ (the event and the converter still count).
   */
  event(
    variant: string,
    name: string,
    user: number | undefined,
    value: number | undefined,
  ): boolean {
    const assigned = this.#variant(variant);
    const tally = this.#event(assigned, name);
    const counters = this.#counters;
    tally.events++;
    counters.events.add(1, tally.labels);
    if (user === undefined) return true;
    if (this.#expose(assigned, user) === 'full') return true;
    const added = tally.converters.add(user);
    if (added === 'full') return true;
    if (added === 'added') counters.conversions.add(1, tally.labels);
    if (value === undefined) return true;
    // (before + value)² − before²: the change in this user's square
    const squares = value * (2 * tally.converters.valueOf(user) + value);
    if (
      !Number.isFinite(squares) ||
      !Number.isFinite(tally.valueSum + value) ||
      !Number.isFinite(tally.valueSumSquares + squares)
    )
      return false;
    tally.converters.addValue(user, value);
    tally.valueSum += value;
    tally.valueSumSquares += squares;
    tally.hasValues = true;
    counters.value.add(value, tally.labels);
    counters.valueSquares.add(squares, tally.labels);
    return true;
  }

  /** The counts as the analysis reads them; `control` defaults to the first variant by name. */
  totals(control: string | undefined): TrackingTotals {
    const variants = [...this.#variants].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const names = [...new Set(variants.flatMap(([, v]) => [...v.events.keys()]))].sort();
    const metrics: MetricData[] = [];
    const events = new Map<string, Record<string, number>>();
    for (const name of names) {
      const rows = variants.map(([variant, v]) => ({ variant, v, e: v.events.get(name) }));
      const base = ({ variant, v, e }: (typeof rows)[number]): VariantCounts => ({
        variant,
        users: v.exposed.size,
        conversions: e?.converters.size ?? 0,
      });
      metrics.push({ metric: name, kind: 'conversion', variants: rows.map(base) });
      if (rows.some(({ e }) => e?.hasValues === true)) {
        const variantsWithValues = rows.map((row) => ({
          ...base(row),
          valueSum: row.e?.valueSum ?? 0,
          valueSumSquares: row.e?.valueSumSquares ?? 0,
        }));
        metrics.push({ metric: valueMetricName(name), kind: 'mean', variants: variantsWithValues });
      }
      events.set(name, Object.fromEntries(rows.map(({ variant, e }) => [variant, e?.events ?? 0])));
    }
    return {
      flag: this.#key,
      control: control ?? variants[0]?.[0] ?? '',
      metrics,
      assignment: Object.fromEntries(variants.map(([variant, v]) => [variant, v.exposed.size])),
      overflowed: this.#exposures.overflowed || this.#converters.overflowed,
      // own properties, whatever the names (an event called __proto__ included)
      events: Object.fromEntries(events),
    };
  }

  #expose(tally: VariantTally, user: number): 'added' | 'present' | 'full' {
    const added = tally.exposed.add(user);
    if (added === 'added') this.#counters.exposures.add(1, tally.labels);
    return added;
  }

  #variant(variant: string): VariantTally {
    let tally = this.#variants.get(variant);
    if (tally === undefined) {
      const labels = { [EXPERIMENT_LABELS.key]: this.#key, [EXPERIMENT_LABELS.variant]: variant };
      tally = { exposed: new UserTable(this.#exposures), labels, events: new Map() };
      this.#variants.set(variant, tally);
    }
    return tally;
  }

  #event(variant: VariantTally, name: string): EventTally {
    let tally = variant.events.get(name);
    if (tally === undefined) {
      tally = {
        converters: new UserTable(this.#converters),
        labels: { ...variant.labels, [EXPERIMENT_LABELS.event]: name },
        events: 0,
        valueSum: 0,
        valueSumSquares: 0,
        hasValues: false,
      };
      variant.events.set(name, tally);
    }
    return tally;
  }
}
