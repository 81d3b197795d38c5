import { describe, expect, it } from 'vitest';
import { createEvaluator } from 'rampflag/evaluator';
import { formatDuration, parseDuration } from '../../src/rollout/duration.js';
import { checkPlanAgainstFlag, targetingAt, WEIGHT_TOTAL } from '../../src/rollout/flag-shape.js';
import type { PlanError } from '../../src/rollout/plan.js';
import { parsePlan, type RolloutPlan } from '../../src/rollout/plan.js';

const PLAN = `
flag: checkout.payments.express-pay
treatment: "on"
control: "off"
rings: { attribute: ring, stages: [internal, beta] }
steps: [1, 5, 25, 50, 100]
hold: 10m
minSamples: 1000
checkEvery: 30s
stepTimeout: 2h
onTimeout: hold
alpha: 0.05
guardrails:
  - { name: errors, metric: error-rate, maxIncrease: 0.002, maxRate: 0.01 }
  - { name: latency, metric: slow-rate, slowerThanMs: 200, maxIncrease: 0.01 }
  - { name: checkout, bad: 'sum(rate(conv{variant="{{variant}}"}[{{window}}]))', total: 'sum(rate(exp[{{window}}]))', higherIsBetter: true }
metrics: { prometheus: http://localhost:9090 }
`;

const issuesOf = (input: string | object) => {
  try {
    parsePlan(input);
    return [];
  } catch (error) {
    expect((error as Error).name).toBe('PlanError');
    return (error as PlanError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
};

describe('a rollout plan', () => {
  it("reads ROLLOUT.md's plan with every default applied", () => {
    const plan = parsePlan(PLAN);
    expect(plan.safeVariant).toBe('off');
    expect(plan.steps.map((s) => (s.kind === 'ring' ? s.rings.join('+') : s.percent))).toEqual([
      'internal',
      'internal+beta',
      1,
      5,
      25,
      50,
      100,
    ]);
    expect(plan.steps.every((s) => s.holdMs === 600_000)).toBe(true);
    expect(plan.guardrails.map((g) => [g.name, g.metric, g.maxWorsening, g.tau])).toEqual([
      ['errors', 'error-rate', 0.002, 0.01],
      ['latency', 'slow-rate', 0.01, 0.01],
      ['checkout', 'custom', 0, 0.01],
    ]);
    expect(plan.checkEveryMs).toBe(30_000);
    expect(plan.stepTimeoutMs).toBe(7_200_000);
    expect(plan.srm).toEqual({ threshold: 0.001, action: 'hold' });
  });

  it('reads JSON as well, with per-step holds and the default guardrail', () => {
    const plan = parsePlan({
      flag: 'f',
      treatment: 'on',
      control: 'off',
      steps: [0.1, { percent: 50, hold: '1h' }, 100],
    });
    expect(plan.steps).toEqual([
      { kind: 'percent', percent: 0.1, holdMs: 600_000 },
      { kind: 'percent', percent: 50, holdMs: 3_600_000 },
      { kind: 'percent', percent: 100, holdMs: 600_000 },
    ]);
    expect(plan.guardrails).toMatchObject([
      { name: 'errors', metric: 'error-rate', maxWorsening: 0.002 },
    ]);
  });

  it.each([
    [{ exponential: { from: 1, factor: 2 } }, [1, 2, 4, 8, 16, 32, 64, 100]],
    [{ linear: { from: 20, by: 20 } }, [20, 40, 60, 80, 100]],
    [{ exponential: { from: 0.5, factor: 3 } }, [0.5, 1.5, 4.5, 13.5, 40.5, 100]],
  ])('generates %j as %j', (steps, percents) => {
    const plan = parsePlan({ flag: 'f', treatment: 'on', control: 'off', steps });
    expect(plan.steps.map((s) => (s.kind === 'percent' ? s.percent : s.kind))).toEqual(percents);
  });

  it('names every problem by its path, all at once', () => {
    expect(
      issuesOf({
        flag: '',
        treatment: 'on',
        control: 'on',
        steps: [5, 5, 0.05, 90],
        hold: '-1m',
        alpha: 2,
        onTimeout: 'explode',
        guardrails: [
          { name: 'x', metric: 'slow-rate' },
          { name: 'x', bad: 'q' },
        ],
        colour: 'blue',
      }),
    ).toEqual([
      'colour: unknown key',
      'flag: must be a non-empty string',
      'control: must differ from treatment',
      'safeVariant: must not be the treatment',
      'hold: must be a positive duration such as 30s, 10m or 2h',
      'steps[1]: steps must increase strictly: 5 after 5',
      'steps[2]: 0.05 % is finer than 0.1 %',
      'steps: the last step must be 100',
      'onTimeout: must be hold or rollback',
      'alpha: must be in (0, 0.5)',
      'guardrails[0].slowerThanMs: slow-rate needs slowerThanMs, a histogram bucket bound',
      'guardrails[1].total: a custom guardrail needs bad and total PromQL',
      'guardrails: two guardrails share a name',
    ]);
  });

  it('refuses steps that do not increase, are finer than 0.1 % or pass 100', () => {
    const steps = (list: unknown[]) =>
      issuesOf({ flag: 'f', treatment: 'on', control: 'off', steps: list });
    expect(steps([5, 5, 100])).toEqual(['steps[1]: steps must increase strictly: 5 after 5']);
    expect(steps([0.05, 100])).toEqual(['steps[0]: 0.05 % is finer than 0.1 %']);
    expect(steps([50, 150])).toEqual([
      'steps[1]: 150 is not in (0, 100]',
      'steps: the last step must be 100',
    ]);
    expect(steps([])).toEqual([]);
  });

  it('refuses text that is not a plan', () => {
    expect(issuesOf('flag: [unclosed')[0]).toMatch(/^: not YAML or JSON/);
    expect(issuesOf('42')).toEqual([': a plan is an object']);
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    [1500, 1500],
    ['10 minutes', undefined],
    ['-5s', undefined],
  ])('reads %j as %j', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('writes them for people', () => {
    expect(formatDuration(5_400_000)).toBe('1h 30m');
    expect(formatDuration(250)).toBe('250ms');
  });
});

const flag = (targeting?: unknown) => ({
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  ...(targeting === undefined ? {} : { targeting }),
});
const simplePlan = (extra: object = {}): RolloutPlan =>
  parsePlan({ flag: 'f', treatment: 'on', control: 'off', steps: [1, 5, 25, 50, 100], ...extra });

describe('a plan against its flag', () => {
  it('accepts a flag with no targeting, or with one fractional over the two variants', () => {
    expect(checkPlanAgainstFlag(simplePlan(), flag())).toEqual([]);
    expect(
      checkPlanAgainstFlag(
        simplePlan(),
        flag({
          fractional: [
            ['off', 99],
            ['on', 0],
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('names what is missing or unsafe', () => {
    expect(checkPlanAgainstFlag(simplePlan({ treatment: 'new' }), flag())).toEqual([
      { path: 'treatment', message: 'the flag has no variant "new" (it has on, off)' },
    ]);
    const two = {
      if: [
        true,
        {
          fractional: [
            ['on', 1],
            ['off', 1],
          ],
        },
        {
          fractional: [
            ['on', 1],
            ['off', 1],
          ],
        },
      ],
    };
    expect(checkPlanAgainstFlag(simplePlan(), flag(two))[0]?.message).toMatch(
      /exactly one fractional.*it has 2/,
    );
    expect(
      checkPlanAgainstFlag(
        simplePlan(),
        flag({
          fractional: [
            ['off', 90],
            ['on', 10],
          ],
        }),
      ),
    ).toEqual([
      {
        path: 'targeting.fractional',
        message:
          '"on" has weight but is not the first bucket: moving it would move users between variants',
      },
    ]);
    const byName = {
      if: [
        { in: [{ var: 'ring' }, ['internal']] },
        'on',
        {
          fractional: [
            ['on', 0],
            ['off', 1],
          ],
        },
      ],
    };
    expect(checkPlanAgainstFlag(simplePlan(), flag(byName))).toEqual([
      {
        path: 'targeting',
        message:
          'the targeting serves "on" by name outside the fractional: declare those users as rings in the plan, so they are judged on their own and not mixed into the comparison',
      },
    ]);
    const rings = simplePlan({ rings: { attribute: 'ring', stages: ['internal'] } });
    expect(
      checkPlanAgainstFlag(
        rings,
        flag({
          fractional: [
            ['on', 0],
            ['off', 1],
          ],
        }),
      )[0]?.message,
    ).toMatch(/has no \{"in": \[\{"var": "ring"\}/);
  });
});

describe('the targeting a rollout writes', () => {
  it("writes the seed's shape on a flag with no targeting: the rings, then fractional", () => {
    const plan = simplePlan({ rings: { attribute: 'ring', stages: ['internal', 'beta'] } });
    expect(targetingAt(plan, flag(), plan.steps[0])).toEqual({
      if: [
        { in: [{ var: 'ring' }, ['internal']] },
        'on',
        {
          fractional: [
            ['on', 0],
            ['off', WEIGHT_TOTAL],
          ],
        },
      ],
    });
    expect(targetingAt(plan, flag(), plan.steps[2])).toEqual({
      if: [
        { in: [{ var: 'ring' }, ['internal', 'beta']] },
        'on',
        {
          fractional: [
            ['on', 10],
            ['off', 990],
          ],
        },
      ],
    });
  });

  it('changes only the weights and ring list of an existing rule, keeping its bucketing key', () => {
    const plan = simplePlan({ rings: { attribute: 'ring', stages: ['internal'] } });
    const existing = {
      if: [
        { in: [{ var: 'ring' }, []] },
        'on',
        { fractional: [{ var: 'email' }, ['on', 0], ['off', 100]] },
      ],
    };
    expect(targetingAt(plan, flag(existing), plan.steps[2])).toEqual({
      if: [
        { in: [{ var: 'ring' }, ['internal']] },
        'on',
        { fractional: [{ var: 'email' }, ['on', 50], ['off', 950]] },
      ],
    });
  });

  it('is sticky: a user who got the treatment at p % still gets it at every q > p %', () => {
    const plan = simplePlan({ steps: [0.1, 0.5, 1, 2.5, 5, 10, 25, 50, 75, 99.9, 100] });
    const evaluator = createEvaluator();
    const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
    let exposedBefore = new Set<string>();
    for (const step of plan.steps) {
      const targeting = targetingAt(plan, flag(), step);
      evaluator.setConfiguration({ flags: { f: flag(targeting) } });
      const exposed = new Set(
        users.filter((u) => evaluator.resolveBoolean('f', false, { targetingKey: u }).value),
      );
      for (const user of exposedBefore) expect(exposed.has(user)).toBe(true);
      const percent = step.kind === 'percent' ? step.percent : 0;
      expect(Math.abs(exposed.size / users.length - percent / 100)).toBeLessThan(0.012);
      exposedBefore = exposed;
    }
    expect(exposedBefore.size).toBe(users.length);
  });
});
