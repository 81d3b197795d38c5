import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/rollout/plan.js';
import {
  formatSimulation,
  simulateRollout,
  simulateRollouts,
  simulateScenario,
  type ScenarioSummary,
  type SimulationOptions,
} from '../../src/rollout/simulate.js';
import { proportion, quantile } from '../../src/rollout/simulate-summary.js';
import { gamma } from '../../src/rollout/simulate-traffic.js';
import { seededRandom } from '../../src/stats/index.js';

// A cheap traffic model for CI: few visits (the cost) of many requests (the data), 200 requests/s
// from 5,000 returning users whose error rates vary (exponential frailty). bench/simulate.ts runs
// the README's figures on the default, heavier model.
const options: SimulationOptions = {
  seed: 20240601,
  traffic: { users: 5000, visitsPerSecond: 5, requestsPerVisit: 40, heterogeneity: 1 },
};
const base = {
  flag: 'checkout',
  treatment: 'on',
  control: 'off',
  steps: [5, 25, 50, 100],
  hold: '5m',
  minSamples: 500,
  checkEvery: '30s',
  alpha: 0.05,
};
// the guardrail as ROLLOUT.md writes it: harm is more than 0.2 points worse, or above 1 % on its own
const plan = parsePlan({
  ...base,
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.002, maxRate: 0.01 }],
});
// the strictest reading: any worsening at all is harm, so the α bound is what stands in the way
const strict = parsePlan({
  ...base,
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0, tau: 0.002 }],
});

let healthy: ScenarioSummary | undefined;
/** 1,000 A/A rollouts of the plan as written, run once for the tests that read them. */
const healthyRollouts = () =>
  (healthy ??= simulateScenario(plan, { ...options, rollouts: 1000 }, 'sequential', 1));

describe('rollout simulation: the real decision on synthetic traffic', () => {
  it('rolls back fewer than α of 1,000 healthy (A/A) rollouts, as the plan is written', () => {
    const aa = healthyRollouts();
    expect(aa.rollouts).toBe(1000);
    expect(aa.rolledBack.rate).toBeLessThanOrEqual(plan.alpha);
    expect(aa.completed + aa.rolledBack.count).toBe(1000); // none left holding at the horizon
  });

  it('rolls back fewer than α of 1,000 A/A rollouts even when any worsening counts as harm', () => {
    const aa = simulateScenario(strict, { ...options, rollouts: 1000 }, 'sequential', 1);
    expect(aa.rolledBack.rate).toBeLessThanOrEqual(strict.alpha);
  });

  it('detects a 2× error regression (0.5 % → 1 %) in most rollouts, before it reaches everyone', () => {
    const broken = simulateScenario(plan, { ...options, rollouts: 200 }, 'sequential', 2);
    expect(broken.rolledBack.rate).toBeGreaterThanOrEqual(0.9);
    expect(broken.timeToRollback?.median).toBeLessThan(20 * 60_000); // four 5m holds
    expect(broken.exposedBeforeRollback?.usersMedian).toBeLessThan(options.traffic?.users ?? 0);
  });

  it('shows the naive rule (rate > 1 % at every check) rolling back healthy rollouts well above α', () => {
    const naive = simulateScenario(plan, { ...options, rollouts: 1000 }, 'naive', 1);
    expect(naive.rolledBack.lower).toBeGreaterThan(plan.alpha);
    const sequential = healthyRollouts();
    expect(naive.rolledBack.count).toBeGreaterThan(5 * Math.max(1, sequential.rolledBack.count));
  });

  it('is deterministic: the same seed gives the same figures, another seed other ones', () => {
    const small = { ...options, rollouts: 20 };
    const first = simulateRollouts(plan, small);
    expect(simulateRollouts(plan, small)).toEqual(first);
    expect(simulateRollouts(plan, { ...small, seed: 7 })).not.toEqual(first);
    expect(simulateRollout(plan, options, 'sequential', 2, 3)).toEqual(
      simulateRollout(plan, options, 'sequential', 2, 3),
    );
  });

  it('traces a rollback: steps only go up, the interval narrows, the last check rolls back', () => {
    const run = simulateRollout(plan, options, 'sequential', 2, 0);
    expect(run.outcome).toBe('rolled-back');
    expect(run.reason).toMatch(/^errors: treatment − control .* is past the allowed 0\.200 %$/);
    const last = run.trace.at(-1);
    expect(last).toMatchObject({ action: 'rollback', time: run.timeMs });
    expect(last?.difference?.lower).toBeGreaterThan(0.002);
    const percents = run.trace.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    const widths = run.trace.flatMap((p) =>
      p.difference ? [p.difference.upper - p.difference.lower] : [],
    );
    expect(widths.at(-1)).toBeLessThan(widths[0] as number);
    expect(run.usersExposed).toBeGreaterThan(0);
    expect(run.requestsExposed).toBeGreaterThanOrEqual(run.usersExposed);
  });

  it('serves ring users the treatment and judges them on their own', () => {
    const ringed = parsePlan({
      ...base,
      rings: { attribute: 'ring', stages: ['internal'] },
      guardrails: [{ name: 'errors', maxIncrease: 0.002, maxRate: 0.01 }],
    });
    const run = simulateRollout(
      ringed,
      { ...options, traffic: { ...options.traffic, ringShare: 0.1 } },
      'sequential',
      1,
      0,
    );
    expect(run.trace[0]).toMatchObject({ step: 0, percent: 0 });
    expect(run.outcome).toBe('completed');
    expect(run.trace.some((p) => p.step === 1)).toBe(true);
  });

  it('renders the figures as a markdown table under the plan and traffic used', () => {
    const text = formatSimulation(simulateRollouts(plan, { ...options, rollouts: 10 }));
    expect(text).toMatch(/^Plan: steps 5 % → 25 % → 50 % → 100 %, hold 5m, minSamples 500/);
    expect(text).toContain(
      '| | Sequential (rampflag, α = 0.05) | Naive: roll back if rate > 1 % |',
    );
    expect(text).toMatch(/\| A\/A false rollbacks \| \d+\.\d % \(\d+\/10; 95 % CI/);
    expect(text).toContain('| 2× regression (0.50 % → 1.00 %) rolled back |');
  });
});

describe('simulation helpers', () => {
  it('gives the Wilson 95 % interval of a proportion', () => {
    const p = proportion(0, 1000);
    expect(p.lower).toBe(0);
    expect(p.upper).toBeCloseTo(0.00383, 4);
    const half = proportion(50, 100);
    expect(half.lower).toBeCloseTo(0.4038, 3);
    expect(half.upper).toBeCloseTo(0.5962, 3);
  });

  it('takes nearest-rank quantiles', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([], 0.5)).toBeUndefined();
  });

  it.each([0.2, 1, 3])('draws Gamma(%s) frailties with mean shape', (shape) => {
    const random = seededRandom(3);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += gamma(shape, random);
    expect(sum / 20_000).toBeCloseTo(shape, 1);
  });
});
