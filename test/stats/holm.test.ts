import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holm } from '../../src/stats/index.js';

describe('holm', () => {
  // Wikipedia, "Holm–Bonferroni method", Example: p = 0.01, 0.04, 0.03, 0.005 at α = 0.05; H4 and
  // H1 are rejected (0.005 ≤ 0.05/4, 0.01 ≤ 0.05/3), then 0.03 > 0.05/2 stops the procedure.
  // Adjusted values as R's p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm"): 0.03 0.06 0.06 0.02.
  it('reproduces the textbook example', () => {
    const { adjusted, rejected } = holm([0.01, 0.04, 0.03, 0.005], 0.05);
    expect(adjusted.map((p) => Number(p.toFixed(12)))).toEqual([0.03, 0.06, 0.06, 0.02]);
    expect(rejected).toEqual([true, false, false, true]);
  });

  it('caps adjusted values at 1 and keeps one p-value as it is', () => {
    expect(holm([0.4, 0.6], 0.05).adjusted).toEqual([0.8, 0.8]);
    expect(holm([0.9, 0.95, 0.7], 0.05).adjusted).toEqual([1, 1, 1]);
    expect(holm([0.03], 0.05)).toEqual({ adjusted: [0.03], rejected: [true] });
    expect(holm([], 0.05)).toEqual({ adjusted: [], rejected: [] });
  });

  it('leaves NaN p-values out of m, as R does with NA', () => {
    const { adjusted, rejected } = holm([0.01, Number.NaN, 0.02], 0.05);
    expect(adjusted[0]).toBeCloseTo(0.02, 12);
    expect(adjusted[1]).toBeNaN();
    expect(adjusted[2]).toBeCloseTo(0.02, 12);
    expect(rejected).toEqual([true, false, true]);
  });

  it('rejects p-values outside [0, 1] and a bad alpha', () => {
    expect(() => holm([0.1, 1.2], 0.05)).toThrow(RangeError);
    expect(() => holm([-0.1], 0.05)).toThrow(RangeError);
    expect(() => holm([0.1], 0)).toThrow(RangeError);
  });

  const pValues = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });
  const alphas = fc.double({ min: 0.001, max: 0.2, noNaN: true });

  it('is the step-down procedure: rejects exactly H_(1..k) while p_(j) ≤ α/(m − j + 1)', () => {
    fc.assert(
      fc.property(pValues, alphas, (ps, alpha) => {
        const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
        const expected = ps.map(() => false);
        for (let j = 0; j < order.length; j++) {
          const { p, i } = order[j]!;
          if (p > alpha / (order.length - j)) break;
          expected[i] = true;
        }
        // equal up to rounding at the boundary (m·p against α)
        const { rejected } = holm(ps, alpha);
        const boundary = order.some(({ p }, j) => Math.abs(p * (order.length - j) - alpha) < 1e-12);
        if (!boundary) expect(rejected).toEqual(expected);
      }),
      { seed: 13, numRuns: 2_000 },
    );
  });

  it('gives adjusted values that are monotone in p, ≥ p, ≤ 1, and reject at least what Bonferroni does', () => {
    fc.assert(
      fc.property(pValues, alphas, (ps, alpha) => {
        const { adjusted, rejected } = holm(ps, alpha);
        const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
        for (let j = 1; j < order.length; j++) {
          expect(adjusted[order[j]!.i]!).toBeGreaterThanOrEqual(adjusted[order[j - 1]!.i]!);
        }
        ps.forEach((p, i) => {
          expect(adjusted[i]!).toBeGreaterThanOrEqual(p);
          expect(adjusted[i]!).toBeLessThanOrEqual(1);
          if (p * ps.length <= alpha) expect(rejected[i]).toBe(true);
        });
      }),
      { seed: 14, numRuns: 2_000 },
    );
  });
});
