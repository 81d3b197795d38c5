import { describe, expect, it } from 'vitest';
import {
  decide,
  type Evidence,
  type RolloutState,
  type StepEvidence,
} from '../../src/rollout/decide.js';
import { parsePlan, type Guardrail } from '../../src/rollout/plan.js';

const MINUTE = 60_000;
const plan = parsePlan({
  flag: 'f',
  treatment: 'on',
  control: 'off',
  rings: { attribute: 'ring', stages: ['internal'] },
  steps: [10, 50, 100],
  hold: '10m',
  minSamples: 1000,
  stepTimeout: '1h',
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.002, maxRate: 0.05 }],
});
// steps: 0 ring internal, 1 → 10 %, 2 → 50 %, 3 → 100 %
const at = (step: number, since = 0): RolloutState => ({
  id: 'r1',
  status: 'running',
  step,
  since,
});
const counts = (bad: number, total: number) => ({ errors: { bad, total } });
const stepOf = (
  step: number,
  treatment: [number, number],
  control: [number, number],
  extra: Partial<StepEvidence> = {},
): StepEvidence => ({
  step,
  treatment: counts(...treatment),
  control: counts(...control),
  ...extra,
});
const evidence = (...steps: StepEvidence[]): Evidence => ({ steps });

describe('a rollout decision', () => {
  it('advances a healthy step once its hold is over, and completes the last', () => {
    const healthy = evidence(stepOf(1, [5, 2000], [90, 18_000]));
    expect(decide(plan, at(1), healthy, 9 * MINUTE)).toMatchObject({
      action: 'hold',
      reason: 'holding: 1m left in this step',
    });
    const decision = decide(plan, at(1), healthy, 10 * MINUTE);
    expect(decision.action).toBe('advance');
    expect(decision.guardrails[0]).toMatchObject({
      name: 'errors',
      verdict: 'ok',
      samples: { treatment: 2000, control: 18_000 },
    });
    // at 100 % nobody bucketed is on the control: the treatment alone must reach the sample
    const full = evidence(stepOf(1, [5, 2000], [90, 18_000]), stepOf(3, [20, 5000], [0, 0]));
    expect(decide(plan, at(3), full, 60 * MINUTE).action).toBe('complete');
    const thinFull = evidence(stepOf(1, [5, 2000], [90, 18_000]), stepOf(3, [0, 50], [0, 0]));
    expect(decide(plan, at(3), thinFull, 30 * MINUTE).action).toBe('hold');
  });

  it('completes the last step with evidence from the steps before it', () => {
    const steps = evidence(stepOf(1, [5, 2000], [90, 18_000]), stepOf(3, [25, 5000], [0, 1000]));
    expect(decide(plan, at(3), steps, 10 * MINUTE).action).toBe('complete');
  });

  it('rolls back at once on a clear regression, whatever the hold, with the evidence in the reason', () => {
    const broken = evidence(stepOf(1, [100, 2000], [90, 18_000])); // 5 % against 0.5 %
    const decision = decide(plan, at(1), broken, MINUTE);
    expect(decision.action).toBe('rollback');
    expect(decision.reason).toMatch(
      /^errors: treatment − control 4\.500 % \[\d\.\d+ %, \d\.\d+ %\] is past the allowed 0\.200 %$/,
    );
    expect(decision.guardrails[0]?.difference?.lower).toBeGreaterThan(0.002);
  });

  it('holds on zero traffic and on a missing cohort: no data is never a pass nor a failure', () => {
    expect(decide(plan, at(1), evidence(), 30 * MINUTE)).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(
        /waiting for 1000 events per cohort: errors treatment 0, control 0/,
      ) as string,
    });
    const noControl = evidence(stepOf(1, [0, 5000], [0, 0]));
    expect(decide(plan, at(1), noControl, 30 * MINUTE)).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/control 0/) as string,
    });
  });

  it('passes zero failures in both cohorts, the common case, without dividing by zero', () => {
    const clean = evidence(stepOf(1, [0, 2000], [0, 18_000]));
    const decision = decide(plan, at(1), clean, 10 * MINUTE);
    expect(decision.action).toBe('advance');
    expect(Number.isFinite(decision.guardrails[0]?.difference?.upper)).toBe(true);
  });

  it('holds while a cohort is below the minimum sample, then applies the timeout policy', () => {
    const thin = evidence(stepOf(1, [0, 400], [0, 3600]));
    expect(decide(plan, at(1), thin, 30 * MINUTE).action).toBe('hold');
    expect(decide(plan, at(1), thin, 60 * MINUTE)).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/^the step timed out after 1h: waiting/) as string,
    });
    const strict = { ...plan, onTimeout: 'rollback' as const };
    expect(decide(strict, at(1), thin, 60 * MINUTE).action).toBe('rollback');
  });

  it('holds on counts that cannot be real, as after a counter reset', () => {
    const reset = evidence(stepOf(1, [50, 20], [0, 18_000]));
    expect(decide(plan, at(1), reset, 30 * MINUTE)).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(/counter reset/) as string,
    });
    const negative = evidence(stepOf(1, [0, -5], [0, 18_000]));
    expect(decide(plan, at(1), negative, 30 * MINUTE).action).toBe('hold');
  });

  it('judges the ring cohort on its absolute limit alone', () => {
    const ringOk = evidence({
      step: 0,
      treatment: {},
      control: counts(0, 9000),
      ring: counts(10, 1500),
    });
    expect(decide(plan, at(0), ringOk, 10 * MINUTE).action).toBe('advance');
    const ringBad = evidence({
      step: 0,
      treatment: {},
      control: counts(0, 9000),
      ring: counts(300, 1500),
    });
    expect(decide(plan, at(0), ringBad, MINUTE)).toMatchObject({
      action: 'rollback',
      reason: expect.stringMatching(
        /the ring cohort's rate 20\.000 %.* is past its limit 5\.000 %/,
      ) as string,
    });
    const ringThin = evidence({
      step: 0,
      treatment: {},
      control: counts(0, 9000),
      ring: counts(0, 10),
    });
    expect(decide(plan, at(0), ringThin, 10 * MINUTE).action).toBe('hold');
  });

  it('holds on a sample ratio mismatch counted in users; counted in requests it only warns', () => {
    const skewed = evidence(
      stepOf(1, [5, 3000], [90, 17_000], {
        exposures: { treatment: 3000, control: 17_000, unit: 'users' },
      }),
    );
    const decision = decide(plan, at(1), skewed, 10 * MINUTE);
    expect(decision.action).toBe('hold');
    expect(decision.reason).toMatch(/^sample ratio mismatch: p = .* < 0\.001$/);
    expect(decision.srm?.pValue).toBeLessThan(0.001);
    const strict = { ...plan, srm: { threshold: 0.001, action: 'rollback' as const } };
    expect(decide(strict, at(1), skewed, 10 * MINUTE).action).toBe('rollback');
    const warned = decide(
      { ...plan, srm: { threshold: 0.001, action: 'warn' } },
      at(1),
      skewed,
      10 * MINUTE,
    );
    expect(warned).toMatchObject({
      action: 'advance',
      reason: expect.stringMatching(/warning: sample ratio mismatch/) as string,
    });
    // returning and heavy users over-disperse request counts: there it can only warn
    const requests = evidence(
      stepOf(1, [5, 3000], [90, 17_000], {
        exposures: { treatment: 3000, control: 17_000, unit: 'requests' },
      }),
    );
    expect(decide(strict, at(1), requests, 10 * MINUTE)).toMatchObject({
      action: 'advance',
      reason: expect.stringMatching(
        /warning: sample ratio mismatch.*counted in requests.*a warning only/,
      ) as string,
    });
    // and a mismatch alone never rolls back through the step timeout
    const timingOut = { ...plan, onTimeout: 'rollback' as const };
    expect(decide(timingOut, at(1), skewed, 60 * MINUTE)).toMatchObject({
      action: 'hold',
      reason: expect.stringMatching(
        /^the step timed out after 1h: sample ratio mismatch/,
      ) as string,
    });
    // a ring stage (0 %) or the last step (100 %) has no split to check: a few requests served
    // while the change propagated are no mismatch
    const lag = { exposures: { treatment: 40, control: 9960, unit: 'requests' as const } };
    expect(
      decide(
        plan,
        at(0),
        evidence({
          step: 0,
          treatment: {},
          control: counts(0, 9000),
          ring: counts(10, 1500),
          ...lag,
        }),
        10 * MINUTE,
      ).action,
    ).toBe('advance');
    const full = evidence(
      stepOf(1, [5, 2000], [90, 18_000]),
      stepOf(3, [20, 5000], [0, 3], {
        exposures: { treatment: 5000, control: 3, unit: 'requests' },
      }),
    );
    expect(decide(plan, at(3), full, 10 * MINUTE).action).toBe('complete');
    const even = evidence(
      stepOf(1, [5, 2000], [90, 18_000], {
        exposures: { treatment: 2000, control: 18_000, unit: 'users' },
      }),
    );
    expect(decide(plan, at(1), even, 10 * MINUTE).action).toBe('advance');
  });

  it('splits alpha across guardrails (Bonferroni): more guardrails, wider intervals', () => {
    const two = parsePlan({
      flag: 'f',
      treatment: 'on',
      control: 'off',
      steps: [100],
      guardrails: [
        { name: 'errors', maxIncrease: 0.002 },
        { name: 'other', maxIncrease: 0.002 },
      ],
    });
    const one = { ...two, guardrails: two.guardrails.slice(0, 1) };
    const data = evidence({
      step: 0,
      treatment: { ...counts(20, 4000), other: { bad: 0, total: 4000 } },
      control: { ...counts(15, 4000), other: { bad: 0, total: 4000 } },
    });
    const width = (p: typeof two) => {
      const d = decide(p, at(0), data, 0).guardrails[0]?.difference;
      return (d?.upper ?? 0) - (d?.lower ?? 0);
    };
    expect(width(two)).toBeGreaterThan(width(one));
  });

  it('treats a lower rate as the harm when higher is better', () => {
    const conversions = parsePlan({
      flag: 'f',
      treatment: 'on',
      control: 'off',
      steps: [100],
      minSamples: 100,
      guardrails: [
        { name: 'checkout', bad: 'x', total: 'y', higherIsBetter: true, maxDecrease: 0.01 },
      ],
    });
    const worse = evidence({
      step: 0,
      treatment: { checkout: { bad: 100, total: 5000 } },
      control: { checkout: { bad: 1000, total: 5000 } },
    });
    expect(decide(conversions, at(0), worse, 0).action).toBe('rollback');
    const better = evidence({
      step: 0,
      treatment: { checkout: { bad: 1000, total: 5000 } },
      control: { checkout: { bad: 100, total: 5000 } },
    });
    expect(decide(conversions, at(0), better, 10 * MINUTE).action).toBe('complete');
  });

  it('does nothing for a rollout that has ended', () => {
    for (const status of ['completed', 'rolled-back', 'killed'] as const)
      expect(decide(plan, { ...at(1), status }, evidence(), 0)).toEqual({
        action: 'hold',
        reason: `the rollout is ${status}`,
        guardrails: [],
      });
  });

  it('still rolls back a paused rollout on harm, and otherwise holds it', () => {
    const paused = { ...at(1), status: 'paused' as const };
    expect(
      decide(plan, paused, evidence(stepOf(1, [5, 2000], [90, 18_000])), 60 * MINUTE),
    ).toMatchObject({
      action: 'hold',
      reason: 'the rollout is paused',
    });
    expect(
      decide(plan, paused, evidence(stepOf(1, [100, 2000], [90, 18_000])), MINUTE).action,
    ).toBe('rollback');
  });

  it('judges the other guardrails when one has counts that cannot be real, and applies the timeout', () => {
    const two = parsePlan({
      flag: 'f',
      treatment: 'on',
      control: 'off',
      steps: [50, 100],
      minSamples: 100,
      stepTimeout: '1h',
      onTimeout: 'rollback',
      guardrails: [
        { name: 'errors', maxIncrease: 0.002 },
        { name: 'orders', bad: 'x', total: 'y', higherIsBetter: true },
      ],
    });
    const withBroken = (errors: [number, number]) =>
      evidence({
        step: 0,
        treatment: { ...counts(...errors), orders: { bad: 700, total: 600 } },
        control: { ...counts(5, 5000), orders: { bad: 50, total: 500 } },
      });
    expect(decide(two, at(0), withBroken([300, 5000]), MINUTE).action).toBe('rollback');
    expect(decide(two, at(0), withBroken([5, 5000]), 30 * MINUTE)).toMatchObject({
      action: 'hold',
      reason: 'orders: the counts are inconsistent (a counter reset?)',
    });
    expect(decide(two, at(0), withBroken([5, 5000]), 60 * MINUTE)).toMatchObject({
      action: 'rollback',
      reason: expect.stringMatching(
        /^the step timed out after 1h: orders: the counts are inconsistent/,
      ) as string,
    });
  });

  it('splits alpha over every test it runs: the difference, and each absolute limit', () => {
    const limited = parsePlan({
      flag: 'f',
      treatment: 'on',
      control: 'off',
      steps: [100],
      guardrails: [{ name: 'errors', maxIncrease: 0.002, maxRate: 0.05 }],
    });
    const unlimited = {
      ...limited,
      guardrails: [{ ...(limited.guardrails[0] as Guardrail), maxRate: undefined }],
    };
    const data = evidence({ step: 0, treatment: counts(20, 4000), control: counts(15, 4000) });
    const width = (p: typeof limited) => {
      const d = decide(p, at(0), data, 0).guardrails[0]?.difference;
      return (d?.upper ?? 0) - (d?.lower ?? 0);
    };
    expect(width(limited)).toBeGreaterThan(width(unlimited));
  });
});
