import { describe, expect, it } from 'vitest';
import { chiSquaredTail, lnGamma, upperGamma } from '../../src/stats/index.js';
import { sampleRatioMismatch } from '../../src/stats/index.js';

describe('the chi-squared tail', () => {
  // critical values from any χ² table
  it.each([
    [3.841458820694124, 1, 0.05],
    [10.827566170662733, 1, 0.001],
    [6.634896601021214, 1, 0.01],
    [5.991464547107979, 2, 0.05],
    [18.307038053275146, 10, 0.05],
    [0.454936423119572, 1, 0.5],
  ])('P(χ² ≥ %d | df %i) = %d', (statistic, df, p) => {
    expect(chiSquaredTail(statistic, df)).toBeCloseTo(p, 10);
  });

  it('gives ln Γ and Q at their known values', () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(upperGamma(1, 2)).toBeCloseTo(Math.exp(-2), 12); // Q(1, x) = e^-x
    expect(upperGamma(3, 0)).toBe(1);
    expect(chiSquaredTail(0, 1)).toBe(1);
  });
});

describe('sample ratio mismatch', () => {
  it('finds nothing wrong with the split the weights imply', () => {
    expect(sampleRatioMismatch([100, 9900], [1, 99]).pValue).toBeCloseTo(1, 12);
  });

  it('tests counts against the shares, whatever scale the weights use', () => {
    const result = sampleRatioMismatch([5100, 4900], [0.5, 0.5]);
    expect(result.statistic).toBeCloseTo(4, 10);
    expect(result.df).toBe(1);
    expect(result.pValue).toBeCloseTo(0.0455003, 6);
    expect(sampleRatioMismatch([5100, 4900], [50, 50]).pValue).toBeCloseTo(result.pValue, 12);
  });

  it('calls traffic where none was expected a mismatch, and no traffic no evidence', () => {
    expect(sampleRatioMismatch([3, 1000], [0, 100]).pValue).toBe(0);
    expect(sampleRatioMismatch([0, 0], [1, 99]).pValue).toBe(1);
    expect(sampleRatioMismatch([0, 1000], [0, 100]).pValue).toBe(1);
  });

  it('refuses counts and weights that do not pair up', () => {
    expect(() => sampleRatioMismatch([1, 2, 3], [1, 1])).toThrow(RangeError);
  });
});
