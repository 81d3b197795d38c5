import { describe, expect, it } from 'vitest';
import { createEvaluator, type EvaluatorOptions } from '../../src/evaluator/index.js';

const REASONS = ['STATIC', 'TARGETING_MATCH', 'DEFAULT', 'DISABLED', 'ERROR'];

function evaluatorFor(targeting: unknown, options: EvaluatorOptions = {}) {
  const evaluator = createEvaluator(options);
  evaluator.setConfiguration({
    flags: {
      f: {
        state: 'ENABLED',
        variants: { yes: 'yes', no: 'no' },
        defaultVariant: 'no',
        targeting,
      },
    },
  });
  return evaluator;
}

function nested(depth: number): unknown[] {
  const root: unknown[] = [];
  let current = root;
  for (let i = 0; i < depth; i++) current.push((current = []));
  return root;
}

describe('work budget', () => {
  const reduceMerge = {
    if: [
      {
        reduce: [{ var: 'items' }, { merge: [{ var: 'accumulator' }, [{ var: 'current' }]] }, []],
      },
      'yes',
      'no',
    ],
  };

  it('stops a reduce/merge over 60,000 context elements with an error result, in well under a second', () => {
    const evaluator = evaluatorFor(reduceMerge);
    const items = Array.from({ length: 60_000 }, (_, i) => i);
    const started = performance.now();
    const result = evaluator.resolveString('f', 'default', { items });
    expect(performance.now() - started).toBeLessThan(500);
    expect(result).toMatchObject({ value: 'default', reason: 'ERROR', errorCode: 'GENERAL' });
    expect(result.errorMessage).toMatch(
      /evaluation work budget of 100000 units \(maxEvaluationWork\)/,
    );
  });

  it('lets small work through, and takes its size from maxEvaluationWork', () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    expect(evaluatorFor(reduceMerge).resolveString('f', 'd', { items }).value).toBe('yes');
    const tight = evaluatorFor(reduceMerge, { maxEvaluationWork: 1_000 });
    expect(tight.resolveString('f', 'd', { items }).errorCode).toBe('GENERAL');
    expect(tight.resolveString('f', 'd', { items: items.slice(0, 10) }).value).toBe('yes');
  });

  it.each([
    ['map', { map: [{ var: 'items' }, { var: '' }] }],
    ['filter', { filter: [{ var: 'items' }, true] }],
    ['some', { some: [{ var: 'items' }, false] }],
    ['all', { all: [{ var: 'items' }, true] }],
    ['in', { in: [-1, { var: 'items' }] }],
    ['merge', { merge: [{ var: 'items' }, { var: 'items' }] }],
  ])('bounds %s over a huge array', (_, rule) => {
    const items = Array.from({ length: 200_000 }, (_, i) => i);
    const result = evaluatorFor({ if: [rule, 'yes', 'no'] }).resolveString('f', 'd', { items });
    expect(result.errorCode).toBe('GENERAL');
  });

  it('bounds the strings in, cat and substr read and build', () => {
    const huge = 'x'.repeat(10_000_000);
    for (const rule of [
      { in: ['y', { var: 's' }] },
      { cat: [{ var: 's' }, 'y'] },
      { substr: [{ var: 's' }, 1] },
    ]) {
      const result = evaluatorFor({ if: [rule, 'yes', 'no'] }).resolveString('f', 'd', { s: huge });
      expect(result.errorCode).toBe('GENERAL');
    }
    const repeated = evaluatorFor({
      reduce: [{ var: 'items' }, { cat: [{ var: 'accumulator' }, { var: 'current' }] }, ''],
    });
    const items = Array.from({ length: 5_000 }, () => 'x'.repeat(100));
    expect(repeated.resolveString('f', 'd', { items }).errorCode).toBe('GENERAL');
  });
});

describe('hostile evaluation contexts', () => {
  const deep = nested(100_000);
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  const proto = JSON.parse('{"__proto__": {"admin": true}, "list": [1, 2]}') as object;
  const contexts: [string, object][] = [
    ['nested 100,000 deep', { v: deep, targetingKey: 'k' }],
    ['cyclic', { v: cyclic, targetingKey: 'k' }],
    ['with __proto__ keys', { v: proto, targetingKey: 'k' }],
    ['with a huge array', { v: Array.from({ length: 1_000_000 }, () => 1) }],
  ];
  const rules = [
    { '==': [{ var: 'v' }, 'x'] },
    { '<': [{ var: 'v' }, 1] },
    { '+': [{ var: 'v' }, 1] },
    { cat: [{ var: 'v' }] },
    { in: [{ var: 'v' }, 'abc'] },
    { substr: [{ var: 'v' }, 1] },
    { var: [{ var: 'v' }] },
    { missing: [{ var: 'v' }] },
    { fractional: [{ var: 'v' }, ['yes', 1], ['no', 1]] },
    { sem_ver: [{ var: 'v' }, '>', '1.0.0'] },
    { starts_with: [{ var: 'v' }, 'a'] },
    { var: 'v.__proto__.admin' },
    { var: 'admin' },
  ];

  it.each(contexts)('returns a result for a context %s, whatever the rule', (_, context) => {
    for (const rule of rules) {
      const result = evaluatorFor({ if: [rule, 'yes', 'no'] }).resolveString('f', 'd', context);
      expect(REASONS).toContain(result.reason);
      expect(result.errorMessage ?? '').not.toMatch(/call stack/);
    }
  });

  it('turns arrays into text as JavaScript does, cycles included', () => {
    const evaluator = evaluatorFor({ cat: [{ var: 'v' }] }, {});
    const named = createEvaluator();
    named.setConfiguration({
      flags: {
        f: {
          state: 'ENABLED',
          variants: { '1,2,,3': 'joined', '1,': 'cyclic' },
          defaultVariant: '1,',
          targeting: { cat: [{ var: 'v' }] },
        },
      },
    });
    expect(named.resolveString('f', 'd', { v: [1, [2, null], [[3]]] }).value).toBe('joined');
    expect(named.resolveString('f', 'd', { v: cyclic }).variant).toBe('1,');
    expect(evaluator.resolveString('f', 'd', { v: deep }).errorMessage).toMatch(/too deeply/);
  });

  it('never reads a prototype through a __proto__ key', () => {
    expect(
      evaluatorFor({ if: [{ var: 'admin' }, 'yes', 'no'] }).resolveString('f', 'd', proto).value,
    ).toBe('no');
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });
});
