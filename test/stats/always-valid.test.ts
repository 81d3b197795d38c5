import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alwaysValidPValue,
  alwaysValidPValues,
  confidenceSequence,
  meanDifference,
  proportionDifference,
} from '../../src/stats/index.js';

const excludesZero = (
  estimate: { estimate: number; variance: number },
  alpha: number,
  tau: number,
) => {
  const { lower, upper } = confidenceSequence(estimate, alpha, tau);
  return lower > 0 || upper < 0;
};

describe('alwaysValidPValue', () => {
  // By hand: θ̂ = 0.01, V = 1e-5, τ = 0.01: Λ = sqrt(V/(V+τ²))·exp(τ²θ̂²/(2V(V+τ²)))
  // = sqrt(1/11)·exp(50/11) = 28.40335…, so p = 1/Λ = 0.0352071.
  it('is 1/Λ of the mixture SPRT', () => {
    expect(alwaysValidPValue({ estimate: 0.01, variance: 1e-5 }, 0.01)).toBeCloseTo(0.0352071, 7);
    expect(alwaysValidPValue({ estimate: -0.01, variance: 1e-5 }, 0.01)).toBeCloseTo(0.0352071, 7);
  });

  it('is 1 with no effect, and falls as the evidence grows', () => {
    expect(alwaysValidPValue({ estimate: 0, variance: 1e-4 }, 0.01)).toBe(1);
    let previous = 1;
    for (const n of [1e3, 1e4, 1e5, 1e6]) {
      const p = alwaysValidPValue({ estimate: 0.002, variance: 0.1 / n }, 0.005);
      expect(p).toBeLessThanOrEqual(previous);
      previous = p;
    }
    expect(previous).toBeLessThan(1e-6);
  });

  it('has the limits of V → 0 at V = 0: a point interval, p = 0 for an effect and 1 for none', () => {
    // values without spread (every user worth the same) give V = 0; the formulas underflow there
    for (const variance of [0, 1e-320, Number.MIN_VALUE]) {
      expect(alwaysValidPValue({ estimate: 0, variance }, 0.05)).toBe(1);
      expect(alwaysValidPValue({ estimate: 0.2, variance }, 0.05)).toBe(0);
      const none = confidenceSequence({ estimate: 0, variance }, 0.05, 0.05);
      expect(Math.max(-none.lower, none.upper)).toBeLessThan(1e-100);
      const some = confidenceSequence({ estimate: 0.2, variance }, 0.05, 0.05);
      expect(Number.isFinite(some.lower) && Number.isFinite(some.upper)).toBe(true);
      expect(some.lower).toBeCloseTo(0.2, 12);
    }
  });

  // The property the issue asks for: p ≤ α exactly when the α-level confidence sequence excludes 0.
  it('is ≤ α exactly when confidenceSequence at α excludes 0 (50,000 random cases)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: 1e-12, max: 1, noNaN: true }),
        fc.double({ min: 1e-5, max: 1, noNaN: true }),
        fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
        (estimate, variance, tau, alpha) => {
          const e = { estimate, variance };
          expect(alwaysValidPValue(e, tau) <= alpha).toBe(excludesZero(e, alpha, tau));
        },
      ),
      { seed: 42, numRuns: 50_000 },
    );
  });

  it('is the boundary: the interval at α = p(1 ± 1e-9) touches 0 from either side', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 1e-8, max: 1e-2, noNaN: true }),
        fc.double({ min: 1e-3, max: 1, noNaN: true }),
        (estimate, variance, tau) => {
          const e = { estimate, variance };
          const p = alwaysValidPValue(e, tau);
          fc.pre(p > 1e-12 && p < 0.5);
          expect(excludesZero(e, p * (1 + 1e-9), tau)).toBe(true);
          expect(excludesZero(e, p * (1 - 1e-9), tau)).toBe(false);
        },
      ),
      { seed: 43, numRuns: 5_000 },
    );
  });

  it('agrees with the interval for conversions and for means alike', () => {
    const rates = proportionDifference(
      { users: 20_000, conversions: 600 },
      { users: 20_000, conversions: 690 },
    )!;
    const means = meanDifference(
      { n: 5_000, sum: 100_000, sumSquares: 5_000 * (400 + 900) },
      { n: 5_000, sum: 104_000, sumSquares: 5_000 * (20.8 ** 2 + 900) },
    )!;
    for (const [estimate, tau] of [
      [rates, 0.003],
      [means, 1],
    ] as const) {
      const p = alwaysValidPValue(estimate, tau);
      for (const alpha of [0.001, 0.01, 0.05, 0.1, 0.2]) {
        expect(p <= alpha).toBe(excludesZero(estimate, alpha, tau));
      }
    }
  });

  it('is NaN for a NaN estimate and rejects a bad tau', () => {
    expect(alwaysValidPValue({ estimate: Number.NaN, variance: 1 }, 0.1)).toBeNaN();
    for (const tau of [0, -1, Number.NaN, Infinity])
      expect(() => alwaysValidPValue({ estimate: 0, variance: 1 }, tau)).toThrow(RangeError);
  });
});

describe('alwaysValidPValues', () => {
  it('is the running minimum over looks, skipping looks without an estimate', () => {
    const looks = [
      undefined,
      { estimate: 0.01, variance: 1e-5 },
      { estimate: 0.0, variance: 5e-6 },
      { estimate: 0.02, variance: 4e-6 },
      { estimate: 0.001, variance: 3e-6 },
    ];
    const ps = alwaysValidPValues(looks, 0.01);
    expect(ps[0]).toBe(1);
    expect(ps[1]).toBeCloseTo(0.0352071, 7);
    expect(ps[2]).toBe(ps[1]);
    expect(ps[3]).toBe(alwaysValidPValue(looks[3]!, 0.01));
    expect(ps[4]).toBe(ps[3]);
  });
});
