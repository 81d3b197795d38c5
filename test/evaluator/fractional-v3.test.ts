// An independent, byte-oriented MurmurHash3 port checked against the C++ reference.
import murmurReference from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';
import { withRule } from './helpers.js';

const suits = [
  ['clubs', 25],
  ['diamonds', 25],
  ['hearts', 25],
  ['spades', 25],
];
const cards = { clubs: 'clubs', diamonds: 'diamonds', hearts: 'hearts', spades: 'spades' };
const v3 = (rule: unknown) => withRule(rule, cards, { fractional: 'v3' });
const resolve = (rule: unknown, context: object) => v3(rule).resolveString('f', 'default', context);

/** The suit an independent MurmurHash3 of the CBOR bytes `hex` buckets into (total 100). */
function suitOf(hex: string): string {
  const hash = murmurReference.x86.hash32(Uint8Array.from(Buffer.from(hex, 'hex')), 0) >>> 0;
  const bucket = Number((BigInt(hash) * 100n) >> 32n);
  return suits[Math.floor(bucket / 25)]?.[0] as string;
}

describe("fractional, evaluator option fractional: 'v3'", () => {
  it('buckets on the CBOR array [flagKey, targetingKey] when there is no bucketing expression', () => {
    // 82 (array of 2), 61 66 ("f"), 66 75 73 65 72 2d 31 ("user-1")
    const result = resolve({ fractional: suits }, { targetingKey: 'user-1' });
    expect(result).toMatchObject({
      reason: 'TARGETING_MATCH',
      value: suitOf('8261666675736572' + '2d31'),
    });
  });

  it('buckets an empty targeting key on [flagKey, ""]', () => {
    const result = resolve({ fractional: suits }, { targetingKey: '' });
    expect(result).toMatchObject({ reason: 'TARGETING_MATCH', value: suitOf('82616660') });
  });

  it.each([
    ['a string', 'user1', '657573657231'],
    ['an integer', 123, '187b'],
    ['a whole float, as the integer', 123.0, '187b'],
    ['a float', 1.23, 'fb3ff3ae147ae147ae'],
    ['a boolean', true, 'f5'],
    ['an object, keys sorted', { b: 2, a: 1 }, 'a2616101616202'],
  ])('buckets on %s as its CBOR bytes', (_name, value, hex) => {
    expect(resolve({ fractional: [{ var: 'v' }, ...suits] }, { v: value }).value).toBe(suitOf(hex));
  });

  it.each([
    ['a missing bucketing value (null), though there is a targeting key', {}],
    ['a function', { v: () => 1 }],
    [
      'a cyclic object',
      (() => {
        const v: Record<string, unknown> = {};
        v['v'] = v;
        return { v };
      })(),
    ],
  ])('is null with %s', (_name, context) => {
    const result = resolve(
      { fractional: [{ var: 'v' }, ...suits] },
      { targetingKey: 'k', ...context },
    );
    expect(result).toMatchObject({ reason: 'DEFAULT', value: 'fallback' });
  });

  it.each([
    ['no targeting key', {}],
    ['a numeric targeting key', { targetingKey: 12345 }],
    ['a boolean targeting key', { targetingKey: true }],
  ])('is null with %s and no bucketing expression', (_name, context) => {
    expect(resolve({ fractional: suits }, context).reason).toBe('DEFAULT');
  });

  it('takes a first argument that evaluates to an array as a bucket, keyed implicitly', () => {
    const rule = { fractional: [{ merge: [['clubs'], [50]] }, ['hearts', 50]] };
    const implicit = {
      fractional: [
        ['clubs', 50],
        ['hearts', 50],
      ],
    };
    for (const targetingKey of ['a', 'b', 'c', 'd']) {
      expect(resolve(rule, { targetingKey }).value).toBe(resolve(implicit, { targetingKey }).value);
    }
  });

  it('ends a bucketing value over the work budget in an error result', () => {
    const evaluator = withRule({ fractional: [{ var: 'v' }, ...suits] }, cards, {
      fractional: 'v3',
      maxEvaluationWork: 100,
    });
    const result = evaluator.resolveString('f', 'default', {
      v: { list: Array.from({ length: 200 }, () => 1) },
    });
    expect(result).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
  });

  it('explains a value that takes most of the budget without charging it twice', () => {
    const evaluator = withRule({ fractional: [{ var: 'v' }, ...suits] }, cards, {
      fractional: 'v3',
      maxEvaluationWork: 100,
    });
    const context = { v: { list: Array.from({ length: 60 }, () => 1) } };
    expect(evaluator.resolveString('f', 'default', context).reason).toBe('TARGETING_MATCH');
    expect(evaluator.explain('f', context).result.reason).toBe('TARGETING_MATCH');
  });

  it('applies to the legacy fractionalEvaluation too', () => {
    const legacy = resolve({ fractionalEvaluation: ['v', ...suits] }, { v: 123 });
    expect(legacy.value).toBe(suitOf('187b'));
  });

  it('explains what it hashed: the value as JSON and its CBOR bytes', () => {
    const explanation = v3({ fractional: suits }).explain('f', { targetingKey: 'u' });
    expect(explanation.fractional[0]).toMatchObject({
      bucketingKey: '["f","u"]',
      cbor: '8261666175',
      hash: murmurReference.x86.hash32(Uint8Array.from([0x82, 0x61, 0x66, 0x61, 0x75]), 0) >>> 0,
    });
  });

  it('leaves v2 the default', () => {
    const v2 = withRule({ fractional: [{ var: 'v' }, ...suits] }, cards);
    expect(v2.resolveString('f', 'default', { v: 123 }).reason).toBe('DEFAULT'); // no cat, no key
    const hash = murmurReference.x86.hash32(new TextEncoder().encode('user1'), 0) >>> 0;
    const bucket = Number((BigInt(hash) * 100n) >> 32n);
    expect(v2.resolveString('f', 'default', { v: 'user1' }).value).toBe(
      suits[Math.floor(bucket / 25)]?.[0],
    );
  });

  it('refuses an unknown bucketing version rather than quietly using v2', () => {
    expect(() => createEvaluator({ fractional: 'V3' as never })).toThrow(RangeError);
  });
});
