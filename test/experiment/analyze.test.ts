import stdNormalCdf from '@stdlib/stats-base-dists-normal-cdf';
import stdNormalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import stdTCdf from '@stdlib/stats-base-dists-t-cdf';
import stdTQuantile from '@stdlib/stats-base-dists-t-quantile';
import { describe, expect, it } from 'vitest';
import { analyzeExperiment, DEFAULT_TAU } from '../../src/experiment/analyze.js';
import { compareVariants } from '../../src/experiment/compare.js';
import type { ExperimentData, MetricData, VariantCounts } from '../../src/experiment/types.js';
import { binomial, seededRandom } from '../../src/stats/index.js';

const Z = stdNormalQuantile(0.975, 0, 1);

function conversion(
  counts: Record<string, [users: number, conversions: number]>,
  metric = 'purchase',
): MetricData {
  return {
    metric,
    kind: 'conversion',
    variants: Object.entries(counts).map(([variant, [users, conversions]]) => ({
      variant,
      users,
      conversions,
    })),
  };
}

const experiment = (
  metrics: MetricData[],
  extra: Partial<ExperimentData> = {},
): ExperimentData => ({
  flag: 'checkout',
  control: 'off',
  metrics,
  ...extra,
});

describe('analyzeExperiment: conversion metrics', () => {
  it('gives the two-proportion z-test with the pooled standard error, two-tailed', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [10_000, 300], on: [10_000, 345] })]),
    );
    const c = analysis.comparisons[0];
    const pooled = 645 / 20_000;
    const se = Math.sqrt(pooled * (1 - pooled) * (2 / 10_000));
    const z = (0.0345 - 0.03) / se;
    expect(c?.fixed?.test).toBe('z');
    expect(c?.fixed?.statistic).toBeCloseTo(z, 10);
    expect(c?.fixed?.pValue).toBeCloseTo(2 * stdNormalCdf(-z, 0, 1), 10);
    expect(c?.fixed?.pValue).toBeCloseTo(0.0714, 3);
  });

  it("gives each rate Newcombe's Wilson interval (81 of 263: 0.2553 … 0.3662)", () => {
    const analysis = analyzeExperiment(experiment([conversion({ off: [263, 81], on: [263, 90] })]));
    const control = analysis.metrics[0]?.variants[0];
    expect(control?.variant).toBe('off');
    expect(control?.value?.estimate).toBeCloseTo(81 / 263, 12);
    expect(control?.value?.low).toBeCloseTo(0.2553, 4);
    expect(control?.value?.high).toBeCloseTo(0.3662, 4);
  });

  it('gives the absolute lift (unpooled Wald) and the relative lift (delta method) with intervals', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [8_000, 400], on: [9_000, 540] })]),
    );
    const c = analysis.comparisons[0];
    const [pc, pt] = [400 / 8_000, 540 / 9_000];
    const [vc, vt] = [(pc * (1 - pc)) / 8_000, (pt * (1 - pt)) / 9_000];
    expect(c?.absolute?.estimate).toBeCloseTo(pt - pc, 12);
    expect(c?.absolute?.low).toBeCloseTo(pt - pc - Z * Math.sqrt(vc + vt), 10);
    const r = pt / pc;
    const se = Math.sqrt((vt + r * r * vc) / (pc * pc));
    expect(c?.relative?.estimate).toBeCloseTo(r - 1, 12);
    expect(c?.relative?.low).toBeCloseTo(r - 1 - Z * se, 8);
    expect(c?.relative?.high).toBeCloseTo(r - 1 + Z * se, 8);
  });

  it('gives an anytime-valid interval wider than the fixed one, excluding 0 exactly when its p-value is under α', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 200; i++) {
      const n = 500 + Math.floor(random() * 20_000);
      const xc = binomial(n, 0.05, random);
      const xt = binomial(n, 0.05 * (1 + random() * 0.3), random);
      const raw = compareVariants(
        'conversion',
        { variant: 'a', users: n, conversions: xc },
        { variant: 'b', users: n, conversions: xt },
        0.05,
        DEFAULT_TAU,
      );
      const seq = raw.sequential;
      expect(seq).toBeDefined();
      if (seq === undefined || raw.relative === undefined) continue;
      expect(seq.relative.low).toBeLessThan(raw.relative.low);
      expect(seq.relative.high).toBeGreaterThan(raw.relative.high);
      const excludes = seq.relative.low > 0 || seq.relative.high < 0;
      // away from the boundary, where rounding could go either way
      if (Math.abs(seq.pValue - 0.05) > 1e-6) expect(excludes).toBe(seq.pValue < 0.05);
    }
  });

  it('says which variant is better, by how much, with the interval and the sequential p-value', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [10_000, 1_000], on: [10_000, 1_200] })]),
    );
    const c = analysis.comparisons[0];
    expect(c?.outcome).toBe('better');
    expect(c?.verdict).toMatch(
      /^on better than off on purchase: \+20\.0 % \(95 % CI \+\d+\.\d % … \+\d+\.\d %\), sequential p = [\d.e-]+$/,
    );
    expect(c?.verdict).toContain(`+${((c?.sequential?.relative.low ?? 0) * 100).toFixed(1)} %`);
    expect(analysis.warnings).toEqual([]);
  });

  it('says p < 1e-15, not p = < 1e-15, for a p-value too small to print', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [1_000_000, 100_000], on: [900_000, 108_000] })]),
    );
    expect(analysis.comparisons[0]?.verdict).toMatch(/, sequential p < 1e-15$/);
    expect(analysis.warnings[0]).toMatch(/\(χ² = [\d.]+, p < 1e-15\)/);
  });

  it('calls a decrease better when lower is better', () => {
    const metric = {
      ...conversion({ off: [10_000, 1_200], on: [10_000, 1_000] }, 'refund'),
      lowerIsBetter: true,
    };
    const c = analyzeExperiment(experiment([metric])).comparisons[0];
    expect(c?.outcome).toBe('better');
    expect(c?.verdict).toMatch(/^on better than off on refund: −16\.7 %/);
    const up = analyzeExperiment(experiment([{ ...metric, lowerIsBetter: false }])).comparisons[0];
    expect(up?.outcome).toBe('worse');
  });

  it('warns when the fixed-horizon test is significant and the anytime-valid one is not (peeking)', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [10_000, 1_000], on: [10_000, 1_090] })]),
    );
    const c = analysis.comparisons[0];
    expect(c?.fixed?.pValue).toBeLessThan(0.05);
    expect(c?.sequential?.pValue).toBeGreaterThan(0.05);
    expect(c?.outcome).toBe('inconclusive');
    expect(c?.verdict).toMatch(/^on vs off on purchase: no significant difference: \+9\.0 %/);
    expect(analysis.warnings).toHaveLength(1);
    expect(analysis.warnings[0]).toMatch(
      /^on vs off on purchase: significant at a fixed horizon but not by the anytime-valid test \(fixed-horizon p = 0\.0\d, sequential p = 0\.\d+\)\. .*peeking/,
    );
  });

  it('decides on the fixed-horizon test with sequential: false, and then does not warn of peeking', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [10_000, 1_000], on: [10_000, 1_090] })]),
      {
        sequential: false,
      },
    );
    expect(analysis.comparisons[0]?.outcome).toBe('better');
    expect(analysis.comparisons[0]?.verdict).toMatch(
      /^on better than off on purchase: \+9\.0 % \(95 % CI \+\d\.\d % … \+\d+\.\d %\), p = 0\.0\d$/,
    );
    expect(analysis.warnings).toEqual([]);
  });
});

describe('analyzeExperiment: several variants and metrics', () => {
  const data = experiment([
    conversion({ off: [10_000, 1_000], b: [10_000, 1_080], c: [10_000, 1_150] }),
    conversion({ off: [10_000, 500], b: [10_000, 520], c: [10_000, 470] }, 'signup'),
  ]);

  it('Holm-adjusts the p-values across every (variant, metric) pair, step-down and monotone', () => {
    const analysis = analyzeExperiment(data);
    expect(analysis.comparisons.map((c) => `${c.metric}:${c.treatment.variant}`)).toEqual([
      'purchase:b',
      'purchase:c',
      'signup:b',
      'signup:c',
    ]);
    for (const family of ['fixed', 'sequential'] as const) {
      const raw = analysis.comparisons.map(
        (c) => (family === 'fixed' ? c.fixed?.pValue : c.sequential?.pValue) as number,
      );
      const order = raw.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
      const expected: number[] = [];
      let running = 0;
      order.forEach(({ p, i }, k) => {
        running = Math.max(running, Math.min(1, (raw.length - k) * p));
        expected[i] = running;
      });
      const adjusted = analysis.comparisons.map((c) => c.adjusted[family] as number);
      adjusted.forEach((p, i) => expect(p).toBeCloseTo(expected[i] as number, 12));
    }
  });

  it('quotes the Holm-adjusted p-value in the verdicts and decides on it', () => {
    const analysis = analyzeExperiment(data);
    const c = analysis.comparisons[1];
    expect(c?.verdict).toMatch(/sequential p = [\d.e-]+ \(Holm [\d.e-]+\)$/);
    for (const comparison of analysis.comparisons)
      expect(comparison.outcome === 'inconclusive').toBe(
        (comparison.adjusted.sequential ?? 1) >= 0.05,
      );
  });

  it('lists each metric with the control first', () => {
    const analysis = analyzeExperiment({
      ...data,
      metrics: [conversion({ b: [100, 5], off: [100, 4] })],
    });
    expect(analysis.metrics[0]?.variants.map((v) => v.variant)).toEqual(['off', 'b']);
  });

  it('leaves a comparison without users out of the correction, and says so', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [10_000, 1_000], b: [10_000, 1_150], c: [0, 0] })]),
    );
    const [b, c] = analysis.comparisons;
    expect(c?.outcome).toBe('no-data');
    expect(c?.verdict).toBe('c vs off on purchase: not enough data (0 users in c)');
    expect(c?.adjusted).toEqual({ fixed: undefined, sequential: undefined });
    expect(b?.adjusted.fixed).toBe(b?.fixed?.pValue);
    expect(b?.verdict).not.toContain('Holm');
  });

  it('has no relative lift while the control has no conversions', () => {
    const c = analyzeExperiment(experiment([conversion({ off: [50, 0], on: [50, 3] })]))
      .comparisons[0];
    expect(c?.relative).toBeUndefined();
    expect(c?.sequential).toBeUndefined();
    expect(c?.outcome).toBe('no-data');
    expect(c?.verdict).toBe("on vs off on purchase: no relative lift while off's rate is 0");
    expect(c?.absolute?.estimate).toBeCloseTo(0.06, 12);
  });
});

describe('analyzeExperiment: mean metrics', () => {
  const random = seededRandom(11);
  const values = (n: number, mean: number) =>
    Array.from({ length: n }, () => (random() < 0.3 ? -Math.log(1 - random()) * mean : 0));
  const off = values(400, 30);
  const on = values(450, 36);
  const counts = (variant: string, xs: number[]): VariantCounts => ({
    variant,
    users: xs.length,
    conversions: xs.filter((x) => x > 0).length,
    valueSum: xs.reduce((a, x) => a + x, 0),
    valueSumSquares: xs.reduce((a, x) => a + x * x, 0),
  });
  const stats = (xs: number[]) => {
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
    return { mean, variance, n: xs.length };
  };

  it("gives Welch's t-test, its degrees of freedom and its interval, as computed from the raw values", () => {
    const analysis = analyzeExperiment(
      experiment([
        { metric: 'revenue', kind: 'mean', variants: [counts('off', off), counts('on', on)] },
      ]),
    );
    const c = analysis.comparisons[0];
    const [a, b] = [stats(off), stats(on)];
    const [va, vb] = [a.variance / a.n, b.variance / b.n];
    const t = (b.mean - a.mean) / Math.sqrt(va + vb);
    const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
    expect(c?.fixed?.test).toBe('welch');
    expect(c?.fixed?.statistic).toBeCloseTo(t, 9);
    expect(c?.fixed?.df).toBeCloseTo(df, 6);
    expect(c?.fixed?.pValue).toBeCloseTo(2 * stdTCdf(-Math.abs(t), df), 7);
    const half = stdTQuantile(0.975, df) * Math.sqrt(va + vb);
    expect(c?.absolute?.low).toBeCloseTo(b.mean - a.mean - half, 6);
    const mean = analysis.metrics[0]?.variants[0]?.value;
    expect(mean?.estimate).toBeCloseTo(a.mean, 9);
    expect(mean?.high).toBeCloseTo(a.mean + stdTQuantile(0.975, a.n - 1) * Math.sqrt(va), 6);
    expect(c?.relative?.estimate).toBeCloseTo(b.mean / a.mean - 1, 9);
    expect(c?.sequential?.relative.estimate).toBeCloseTo(b.mean / a.mean - 1, 9);
    expect(c?.verdict).toMatch(/^on (better than|vs) off on revenue: /);
  });

  it('compares values without spread: equal means are no difference, different means a certain one', () => {
    const same = (variant: string, value: number): VariantCounts => counts(variant, [value, value]);
    const analysis = analyzeExperiment(
      experiment([
        { metric: 'price', kind: 'mean', variants: [same('off', 5), same('on', 5)] },
        { metric: 'fee', kind: 'mean', variants: [same('off', 5), same('on', 6)] },
      ]),
    );
    const [price, fee] = analysis.comparisons;
    expect(price?.sequential?.pValue).toBe(1);
    expect(price?.outcome).toBe('inconclusive');
    expect(price?.verdict).toBe(
      'on vs off on price: no significant difference: 0.0 % (95 % CI 0.0 % … 0.0 %), sequential p = 1.00 (Holm 1.00)',
    );
    expect(fee?.sequential?.pValue).toBe(0);
    expect(fee?.sequential?.relative.low).toBeCloseTo(0.2, 12);
    expect(fee?.outcome).toBe('better');
  });

  it('has no relative lift over a control whose mean is negative, and says so', () => {
    const analysis = analyzeExperiment(
      experiment([
        {
          metric: 'profit',
          kind: 'mean',
          variants: [counts('off', [-1, 0, -0.5]), counts('on', [1, 0.5, 0])],
        },
      ]),
    );
    const c = analysis.comparisons[0];
    expect(c?.relative).toBeUndefined();
    expect(c?.sequential).toBeUndefined();
    expect(c?.absolute?.estimate).toBeCloseTo(1, 12);
    expect(c?.verdict).toBe(
      "on vs off on profit: no relative lift while off's mean is −0.50 (not above 0)",
    );
    const fixed = analyzeExperiment(
      experiment([
        {
          metric: 'profit',
          kind: 'mean',
          variants: [counts('off', [-1, 0, -0.5]), counts('on', [1, 0.5, 0])],
        },
      ]),
      { sequential: false },
    ).comparisons[0];
    expect(fixed?.verdict).toMatch(/^on (better than|vs) off on profit: .*\+1\.00 per user/);
  });

  it('needs two users per variant for a mean', () => {
    const c = analyzeExperiment(
      experiment([
        {
          metric: 'revenue',
          kind: 'mean',
          variants: [counts('off', [3]), counts('on', [1, 2, 3])],
        },
      ]),
    ).comparisons[0];
    expect(c?.outcome).toBe('no-data');
    expect(c?.verdict).toBe('on vs off on revenue: not enough data (1 users in off)');
  });
});

describe('analyzeExperiment: sample ratio mismatch', () => {
  it('finds a mismatch in the users assigned against equal shares', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [10_000, 500], on: [9_500, 480] })]),
    );
    const chi = (250 ** 2 / 9_750) * 2;
    expect(analysis.srm.statistic).toBeCloseTo(chi, 9);
    expect(analysis.srm.pValue).toBeLessThan(0.001);
    expect(analysis.srm.mismatch).toBe(true);
    expect(analysis.srm.expected).toEqual({ off: 0.5, on: 0.5 });
    expect(analysis.warnings[0]).toMatch(
      /^Sample ratio mismatch: users off 10,000 \/ on 9,500 against expected 50\.0 % \/ 50\.0 % \(χ² = 12\.8, p = 0\.00034\)/,
    );
  });

  it("reads shares and assignments by the variants' own names: constructor, toString, __proto__", () => {
    // built from entries: an object literal's `constructor` is typed as Object's
    const counts = Object.fromEntries([
      ['off', [1_000, 10]],
      ['constructor', [1_000, 20]],
    ] as const satisfies [string, [number, number]][]);
    const metrics = [conversion(counts)];
    const shares = JSON.parse('{"off": 1, "constructor": 1, "__proto__": 0}') as Record<
      string,
      number
    >;
    const analysis = analyzeExperiment(
      experiment(metrics, {
        expectedShares: shares,
        assignment: JSON.parse('{"off": 1000, "constructor": 1000, "__proto__": 0}') as Record<
          string,
          number
        >,
      }),
    );
    expect(analysis.srm.observed).toEqual(
      shares && { off: 1000, constructor: 1000, ['__proto__']: 0 },
    );
    expect(Object.values(analysis.srm.expected)).toEqual([0.5, 0.5, 0]);
    expect(analysis.srm.pValue).toBe(1);
    // a variant no share names is traffic where none was expected, whatever its name
    const stray = analyzeExperiment(
      experiment(metrics, {
        expectedShares: { off: 1, constructor: 1 },
        assignment: { off: 1000, constructor: 1000, toString: 5 },
      }),
    ).srm;
    expect(stray.expected['toString']).toBe(0);
    expect(stray.mismatch).toBe(true);
    const missing = analyzeExperiment(
      experiment(metrics, { expectedShares: { off: 1, constructor: 1, valueOf: 1 } }),
    ).srm;
    expect(missing.observed['valueOf']).toBe(0);
    expect(missing.mismatch).toBe(true);
  });

  it('tests against the expected shares, and the assignment counts when given', () => {
    const metrics = [conversion({ off: [2_500, 100], on: [7_500, 330] })];
    expect(
      analyzeExperiment(experiment(metrics, { expectedShares: { off: 25, on: 75 } })).srm.mismatch,
    ).toBe(false);
    expect(analyzeExperiment(experiment(metrics)).srm.mismatch).toBe(true);
    const assigned = analyzeExperiment(
      experiment(metrics, {
        expectedShares: { off: 25, on: 75 },
        assignment: { off: 2_000, on: 8_000 },
      }),
    );
    expect(assigned.srm.observed).toEqual({ off: 2_000, on: 8_000 });
    expect(assigned.srm.mismatch).toBe(true);
  });

  it('counts users in a variant no share was expected for as a mismatch', () => {
    const analysis = analyzeExperiment(
      experiment([conversion({ off: [1_000, 10], on: [1_000, 12], stray: [3, 0] })], {
        expectedShares: { off: 1, on: 1 },
      }),
    );
    expect(analysis.srm.mismatch).toBe(true);
    expect(analysis.srm.expected).toEqual({ off: 0.5, on: 0.5, stray: 0 });
  });
});

describe('analyzeExperiment: input it refuses', () => {
  it.each([
    ['no metrics', experiment([]), /^no metrics to analyse$/],
    [
      'a metric without the control',
      experiment([conversion({ a: [10, 1], b: [10, 2] })]),
      /^metric "purchase" has no counts for the control "off" \(variants: a, b\)$/,
    ],
    ['only the control', experiment([conversion({ off: [10, 1] })]), /only the control has counts/],
    [
      'more conversions than users',
      experiment([conversion({ off: [10, 11], on: [10, 1] })]),
      /^metric "purchase", variant "off": 11 conversions for 10 users/,
    ],
    [
      'negative users',
      experiment([conversion({ off: [-1, 0], on: [10, 1] })]),
      /^metric "purchase", variant "off": users must be a count ≥ 0 and ≤ 2\^53$/,
    ],
    [
      'counts past 2^53, where whole numbers are no longer exact',
      experiment([conversion({ off: [1e308, 1e300], on: [1e308, 2e300] })]),
      /^metric "purchase", variant "off": users must be a count ≥ 0 and ≤ 2\^53$/,
    ],
    [
      'value sums whose square overflows',
      experiment([
        {
          metric: 'revenue',
          kind: 'mean',
          variants: [
            { variant: 'off', users: 100, conversions: 0, valueSum: 1e200, valueSumSquares: 1e300 },
            { variant: 'on', users: 100, conversions: 0, valueSum: 1e200, valueSumSquares: 1e300 },
          ],
        },
      ]),
      /^metric "revenue", variant "off": valueSum 1e\+200 is too large to analyse \(its square overflows\)$/,
    ],
    [
      'a mean without sums',
      experiment([
        {
          metric: 'revenue',
          kind: 'mean',
          variants: [
            { variant: 'off', users: 3, conversions: 1 },
            { variant: 'on', users: 3, conversions: 1 },
          ],
        },
      ]),
      /needs valueSum and valueSumSquares/,
    ],
    [
      'a variant twice',
      experiment([
        {
          metric: 'm',
          kind: 'conversion',
          variants: [
            { variant: 'off', users: 3, conversions: 1 },
            { variant: 'off', users: 3, conversions: 1 },
          ],
        },
      ]),
      /variant "off" is given twice/,
    ],
  ])('refuses %s, naming it', (_name, data, message) => {
    expect(() => analyzeExperiment(data)).toThrow(message);
    try {
      analyzeExperiment(data);
    } catch (error) {
      expect((error as Error).name).toBe('ExperimentSourceError');
    }
  });

  it('refuses a series past its budget', () => {
    const point = {
      time: '2026-03-01T00:00:00Z',
      metrics: [conversion({ off: [10, 1], on: [10, 2] })],
    };
    const data = experiment(point.metrics, { series: Array.from({ length: 2_001 }, () => point) });
    expect(() => analyzeExperiment(data)).toThrow(
      /^2001 series points: more than the 2000 analysed$/,
    );
    const wide = conversion(
      Object.fromEntries(
        Array.from({ length: 101 }, (_, i) => [i === 0 ? 'off' : `v${i}`, [10, 1]]),
      ),
    );
    const many = experiment([wide], {
      series: Array.from({ length: 2_000 }, () => ({ ...point, metrics: [wide] })),
    });
    expect(() => analyzeExperiment(many)).toThrow(
      /^202000 counts in the series: more than the 200000 analysed$/,
    );
  });

  it('refuses an alpha or tau out of range', () => {
    const data = experiment([conversion({ off: [10, 1], on: [10, 2] })]);
    expect(() => analyzeExperiment(data, { alpha: 1 })).toThrow(/alpha must be in \(0, 1\)/);
    expect(() => analyzeExperiment(data, { tau: 0 })).toThrow(/tau must be a positive number/);
  });
});

describe('analyzeExperiment: over time', () => {
  it("gives the relative lift's anytime-valid interval at each time of the series, narrowing", () => {
    const at = (day: number, n: number, on: number) => ({
      time: new Date(Date.UTC(2026, 2, 1 + day)).toISOString(),
      metrics: [conversion({ off: [n, Math.round(n * 0.1)], on: [n, on] })],
    });
    const series = [at(1, 2_000, 230), at(2, 4_000, 470), at(3, 6_000, 700)];
    const analysis = analyzeExperiment(experiment(series[2]?.metrics ?? [], { series }));
    expect(analysis.timeline.map((p) => p.time)).toEqual(series.map((p) => p.time));
    const widths = analysis.timeline.map((p) => (p.lifts[0]?.high ?? 0) - (p.lifts[0]?.low ?? 0));
    expect(widths[0]).toBeGreaterThan(widths[1] as number);
    expect(widths[1]).toBeGreaterThan(widths[2] as number);
    const last = analysis.timeline[2]?.lifts[0];
    expect(last).toEqual({
      metric: 'purchase',
      variant: 'on',
      ...analysis.comparisons[0]?.sequential?.relative,
    });
  });
});

describe('the anytime-valid test, peeked at daily (simulated A/A experiments)', () => {
  it('keeps its false positives under α where the fixed-horizon z-test, peeked at, does not', () => {
    const random = seededRandom(2026);
    const runs = 400;
    let sequential = 0;
    let fixed = 0;
    for (let run = 0; run < runs; run++) {
      let [nc, xc, nt, xt] = [0, 0, 0, 0];
      let [seqHit, fixedHit] = [false, false];
      for (let day = 0; day < 28; day++) {
        nc += 400;
        nt += 400;
        xc += binomial(400, 0.08, random);
        xt += binomial(400, 0.08, random);
        const raw = compareVariants(
          'conversion',
          { variant: 'a', users: nc, conversions: xc },
          { variant: 'b', users: nt, conversions: xt },
          0.05,
          DEFAULT_TAU,
        );
        seqHit ||= (raw.sequential?.pValue ?? 1) < 0.05;
        fixedHit ||= (raw.fixed?.pValue ?? 1) < 0.05;
      }
      if (seqHit) sequential++;
      if (fixedHit) fixed++;
    }
    expect(sequential / runs).toBeLessThanOrEqual(0.05);
    expect(fixed / runs).toBeGreaterThan(0.15);
  });
});
