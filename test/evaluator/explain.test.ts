import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';
import { murmur3 } from '../../src/evaluator/murmur3.js';
import { testbedDir } from '../support/shared-data.js';

const ring = {
  if: [
    { in: [{ var: 'ring' }, ['internal', 'beta']] },
    'on',
    { fractional: [{ var: 'targetingKey' }, ['on', 5], ['off', 95]] },
  ],
};

describe('explain', () => {
  const evaluator = createEvaluator();
  evaluator.setConfiguration({
    flags: {
      rollout: {
        state: 'ENABLED',
        variants: { on: true, off: false },
        defaultVariant: 'off',
        targeting: ring,
      },
    },
  });

  it('shows the path through the rule', () => {
    const explanation = evaluator.explain('rollout', { ring: 'internal' });
    expect(explanation.result).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
    });
    expect(explanation.steps.map((s) => [s.path, s.operator, s.result])).toEqual([
      ['flags.rollout.targeting.if[0].in[0]', 'var', 'internal'],
      ['flags.rollout.targeting.if[0]', 'in', true],
      ['flags.rollout.targeting', 'if', 'on'],
    ]);
    expect(explanation.fractional).toEqual([]);
  });

  it('shows the bucketing key, hash, bucket and weight table of a fractional', () => {
    const explanation = evaluator.explain('rollout', { targetingKey: 'user-1', ring: 'public' });
    const [decision] = explanation.fractional;
    expect(decision).toMatchObject({
      bucketingKey: 'user-1',
      hash: murmur3('user-1'),
      totalWeight: 100,
      buckets: [
        { variant: 'on', weight: 5, rangeEnd: 5 },
        { variant: 'off', weight: 95, rangeEnd: 100 },
      ],
    });
    expect(decision?.bucket).toBe(Math.floor((murmur3('user-1') * 100) / 2 ** 32));
    expect(explanation.result.variant).toBe(decision?.variant);
  });

  it('explains a missing flag', () => {
    expect(evaluator.explain('nope')).toMatchObject({
      found: false,
      result: { errorCode: 'FLAG_NOT_FOUND' },
    });
  });

  it.runIf(testbedDir !== undefined)('agrees with resolution on every testkit flag', () => {
    const testkit = createEvaluator();
    testkit.setConfiguration(
      readFileSync(join(testbedDir as string, 'evaluator/flags/testkit-flags.json'), 'utf8'),
    );
    const contexts = [
      {},
      {
        targetingKey: 'jon@company.com',
        user: { name: 'jack' },
        version: '1.2.3',
        tier: 'premium',
        color: 'red',
        email: 'ballmer@macrosoft.com',
      },
    ];
    for (const key of testkit.flagKeys()) {
      for (const context of contexts) {
        const explained = testkit.explain(key, context).result;
        const value = explained.value;
        const resolved =
          typeof value === 'boolean'
            ? testkit.resolveBoolean(key, false, context)
            : typeof value === 'number'
              ? testkit.resolveNumber(key, 0, context)
              : typeof value === 'object' && value !== null
                ? testkit.resolveObject(key, {}, context)
                : testkit.resolveString(key, 'dflt', context);
        const { value: _v, ...rest } = explained;
        expect({ key, ...resolved, value: value === undefined ? resolved.value : value }).toEqual({
          key,
          ...rest,
          value: resolved.value,
        });
      }
    }
  });
});
