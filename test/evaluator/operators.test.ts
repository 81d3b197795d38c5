// An independent, byte-oriented MurmurHash3 port checked against the C++ reference.
import murmurReference from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { outcome, withRule } from './helpers.js';

describe('starts_with / ends_with', () => {
  it.each([
    [{ starts_with: [{ var: 's' }, 'abc'] }, { s: 'abcdef' }, true],
    [{ starts_with: [{ var: 's' }, 'abc'] }, { s: 'xabc' }, false],
    [{ ends_with: [{ var: 's' }, 'def'] }, { s: 'abcdef' }, true],
    [{ ends_with: [{ var: 's' }, 'DEF'] }, { s: 'abcdef' }, false],
  ])('%j with %j → %s', (test, context, expected) => {
    expect(outcome({ if: [test, 'yes', 'no'] }, context)).toBe(expected ? 'yes' : 'no');
  });

  it.each([
    [{ starts_with: [{ var: 'n' }, '1'] }, { n: 123 }],
    [{ ends_with: [{ var: 's' }, 3] }, { s: 'abc3' }],
    [{ starts_with: ['abc'] }, {}],
    [{ ends_with: ['a', 'b', 'c'] }, {}],
  ])('%j is null (not false) for bad arguments', (test, context) => {
    expect(outcome(test, context)).toBeNull();
  });
});

const suits = [
  ['clubs', 25],
  ['diamonds', 25],
  ['hearts', 25],
  ['spades', 25],
];

describe('fractional', () => {
  const cards = { clubs: 'clubs', diamonds: 'diamonds', hearts: 'hearts', spades: 'spades' };
  const resolve = (rule: unknown, context: object) =>
    withRule(rule, cards).resolveString('f', 'code-default', context);

  it('buckets flagKey + targetingKey when there is no bucketing expression', () => {
    // "f" + "user-1" is the key; compare with the explicit form of the same key
    const implicit = resolve({ fractional: suits }, { targetingKey: 'user-1' });
    const explicit = resolve(
      { fractional: [{ cat: ['f', { var: 'targetingKey' }] }, ...suits] },
      { targetingKey: 'user-1' },
    );
    expect(implicit.reason).toBe('TARGETING_MATCH');
    expect(implicit.value).toBe(explicit.value);
  });

  it('drops a null bucketing value and falls back to the targeting key (as flagd Go does)', () => {
    const dropped = resolve(
      { fractional: [{ var: 'missing' }, ...suits] },
      { targetingKey: 'user-7' },
    );
    const implicit = resolve({ fractional: suits }, { targetingKey: 'user-7' });
    expect(dropped.value).toBe(implicit.value);
  });

  it.each([
    ['no targeting key', {}],
    ['a numeric targeting key', { targetingKey: 12345 }],
  ])('is null with %s', (_name, context) => {
    expect(resolve({ fractional: suits }, context).reason).toBe('DEFAULT');
  });

  it('buckets an empty targeting key on the flag key alone, as flagd Go and Java do', () => {
    // flagd-spec §b.6.2 step 4: "" is a string, so the key is "f" + "" (flagd-core JS, and rampflag
    // before, returned null). The expected bucket comes from an independent MurmurHash3 of "f".
    const hash = murmurReference.x86.hash32(new TextEncoder().encode('f'), 0) >>> 0;
    const bucket = Number((BigInt(hash) * 100n) >> 32n);
    const expected = suits[Math.floor(bucket / 25)]?.[0];
    const result = resolve({ fractional: suits }, { targetingKey: '' });
    expect(result).toMatchObject({ reason: 'TARGETING_MATCH', value: expected });
  });

  it.each([
    ['a numeric bucketing value', [{ var: 'n' }, ...suits]],
    ['a fractional weight', [{ var: 's' }, ['clubs', 25.5], ['hearts', 25]]],
    ['a string weight', [{ var: 's' }, ['clubs', '25'], ['hearts', 25]]],
    ['weights over 2^31-1', [{ var: 's' }, ['clubs', 2147483647], ['hearts', 1]]],
    ['all-zero weights', [{ var: 's' }, ['clubs', 0], ['hearts', 0]]],
    ['an empty bucket', [{ var: 's' }, [], ['hearts', 1]]],
    ['an object variant', [{ var: 's' }, [{ a: 1, b: 2 }, 1]]],
    ['an array variant', [{ var: 's' }, [[1, 2], 1]]],
    ['no buckets', [{ var: 's' }]],
  ])('is null with %s', (_name, args) => {
    expect(resolve({ fractional: args }, { s: 'key', n: 5 }).reason).toBe('DEFAULT');
  });

  it('treats a missing or null weight as 1 and ignores extra bucket elements', () => {
    const a = resolve(
      { fractional: [{ var: 's' }, ['clubs'], ['hearts', null, 'extra']] },
      { s: 'k1' },
    );
    const b = resolve({ fractional: [{ var: 's' }, ['clubs', 1], ['hearts', 1]] }, { s: 'k1' });
    expect(a.value).toBe(b.value);
  });

  it('clamps negative computed weights to zero', () => {
    const rule = { fractional: [{ var: 's' }, ['clubs', { '-': [0, 50] }], ['hearts', 10]] };
    for (const s of ['a', 'b', 'c', 'd', 'e']) expect(resolve(rule, { s }).value).toBe('hearts');
  });

  it('computes weights and variants from rules (time-based ramps)', () => {
    const rule = {
      fractional: [
        { var: 's' },
        [{ var: 'variant' }, { if: [{ '>': [{ var: '$flagd.timestamp' }, 100] }, 100, 0] }],
        ['clubs', 1],
      ],
    };
    expect(resolve(rule, { s: 'k', variant: 'spades' }).value).toBe('spades');
  });

  it('accepts the legacy fractionalEvaluation with a property name', () => {
    const legacy = resolve({ fractionalEvaluation: ['email', ...suits] }, { email: 'a@b.c' });
    const current = resolve({ fractional: [{ var: 'email' }, ...suits] }, { email: 'a@b.c' });
    expect(legacy.reason).toBe('TARGETING_MATCH');
    expect(legacy.value).toBe(current.value);
  });

  it('splits a population close to its weights', () => {
    const evaluator = withRule({
      fractional: [
        ['yes', 10],
        ['no', 90],
      ],
    });
    let yes = 0;
    for (let i = 0; i < 20000; i++) {
      if (evaluator.resolveString('f', '', { targetingKey: `user-${i}` }).value === 'yes') yes++;
    }
    expect(yes / 20000).toBeGreaterThan(0.09);
    expect(yes / 20000).toBeLessThan(0.11);
  });
});

describe('var and $flagd', () => {
  it('reads $flagd.flagKey and $flagd.timestamp from the evaluation, not the context', () => {
    const evaluator = withRule(
      {
        if: [
          { '==': [{ var: '$flagd.flagKey' }, 'f'] },
          { if: [{ '===': [{ var: '$flagd.timestamp' }, 1700000000] }, 'yes', 'no'] },
          'no',
        ],
      },
      {},
      { clock: { now: () => 1700000000999 } },
    );
    const context = { $flagd: { flagKey: 'spoofed', timestamp: 1 } };
    expect(evaluator.resolveString('f', '', context).value).toBe('yes');
  });

  it('reads dotted paths, array indexes and defaults', () => {
    expect(outcome({ var: 'user.tier' }, { user: { tier: 'yes' } })).toBe('yes');
    expect(outcome({ var: 'list.1' }, { list: ['no', 'yes'] })).toBe('yes');
    expect(outcome({ var: ['missing', 'no'] }, {})).toBe('no');
    expect(outcome({ var: 'missing' }, {})).toBeNull();
  });

  it.each(['__proto__', 'constructor', 'toString', 'user.__proto__', 'user.constructor.name'])(
    'never reads the inherited property %s',
    (path) => {
      expect(outcome({ if: [{ var: path }, 'yes', 'no'] }, { user: {} })).toBe('no');
    },
  );
});
