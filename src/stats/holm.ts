/**
 * Holm's step-down correction for several comparisons at once (Holm, "A simple sequentially
 * rejective multiple test procedure", Scandinavian Journal of Statistics 6, 1979): sort the m
 * p-values, p_(1) ≤ … ≤ p_(m); reject H_(1) … H_(k) while p_(j) ≤ α/(m − j + 1). It controls the
 * family-wise error rate at α like Bonferroni, and rejects at least as much.
 */
import { checkAlpha } from './validate.js';

/** Holm-adjusted p-values (in the input's order) and which hypotheses are rejected at alpha. */
export interface HolmResult {
  readonly adjusted: number[];
  readonly rejected: boolean[];
}

/**
 * The adjusted p-values p̃_(j) = min(1, max_{i ≤ j} (m − i + 1)·p_(i)) — monotone in the sorted
 * order, as R's `p.adjust(p, "holm")` — and rejected = p̃ ≤ alpha. A NaN p-value (a comparison
 * without data) is left out of m, as R leaves out NA: its adjusted value is NaN, never rejected.
 *
 * @example
 * holm([0.01, 0.04, 0.03, 0.005], 0.05);
 * // { adjusted: [0.03, 0.06, 0.06, 0.02], rejected: [true, false, false, true] }
 */
export function holm(pValues: readonly number[], alpha: number): HolmResult {
  checkAlpha(alpha);
  for (const p of pValues) {
    if (!Number.isNaN(p) && !(p >= 0 && p <= 1))
      throw new RangeError(`p-values must be in [0, 1], got ${p}`);
  }
  const order = pValues
    .map((p, index) => ({ p, index }))
    .filter(({ p }) => !Number.isNaN(p))
    .sort((a, b) => a.p - b.p || a.index - b.index);
  const m = order.length;
  const adjusted = pValues.map(() => Number.NaN);
  let running = 0;
  order.forEach(({ p, index }, rank) => {
    running = Math.min(1, Math.max(running, (m - rank) * p));
    adjusted[index] = running;
  });
  return { adjusted, rejected: adjusted.map((p) => p <= alpha) };
}
