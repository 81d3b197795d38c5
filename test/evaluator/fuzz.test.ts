import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createEvaluator,
  isInvalidConfigurationError,
  type EvaluationResult,
} from '../../src/evaluator/index.js';

/**
 * Generated (configuration, context) pairs, hostile shapes included: deep, wide, huge arrays,
 * `__proto__` keys, mixed types, cycles (object inputs). Loading throws nothing but an
 * InvalidConfigurationError; resolving throws nothing; every result is a valid resolution.
 * `RAMPFLAG_FUZZ_RUNS=1000000 npm run fuzz` runs the full million; CI runs a few thousand.
 */
const RUNS = Number(process.env['RAMPFLAG_FUZZ_RUNS'] ?? 5_000);
/** `RAMPFLAG_FUZZ_SEED` replays a failing run. */
const SEED = process.env['RAMPFLAG_FUZZ_SEED'];
const REASONS = new Set(['STATIC', 'TARGETING_MATCH', 'DEFAULT', 'DISABLED', 'ERROR']);
const OPERATORS = [
  ...['if', '?:', 'and', 'or', '!', '!!', '==', '===', '!=', '!==', '>', '>=', '<', '<='],
  ...['+', '-', '*', '/', '%', 'min', 'max', 'var', 'missing', 'missing_some', 'map'],
  ...['filter', 'reduce', 'all', 'none', 'some', 'merge', 'in', 'cat', 'substr', 'fractional'],
  ...['sem_ver', 'starts_with', 'ends_with', '$ref', 'unknown_op', 'fractionalEvaluation'],
];

// Hostile values are built once and shared: the fuzz is about shapes, not allocation.
const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
};
const cyclicArray: unknown[] = [1, 'a'];
cyclicArray.push(cyclicArray);
const cyclicObject: Record<string, unknown> = { a: 1 };
cyclicObject['self'] = cyclicObject;
const HOSTILE: readonly unknown[] = [
  nested(100_000),
  nested(5_000),
  cyclicArray,
  cyclicObject,
  Array.from({ length: 200_000 }, (_, i) => i),
  'x'.repeat(1_000_000),
  JSON.parse('{"__proto__": {"admin": true, "tier": "gold"}, "constructor": {"prototype": 1}}'),
  Object.create(null) as object,
  -0,
  Number.MAX_SAFE_INTEGER,
  1e308,
  '__proto__',
  'constructor',
  '$flagd.timestamp',
  '1.2.3',
  'v2.0.0-beta.1',
];

const key = fc.constantFrom('a', 'b', 'tier', 'email', 'v', '__proto__', 'constructor', '', 'a.b');
const scalar = fc.oneof(
  fc.constantFrom(null, true, false, 0, 1, -1, 0.5, '', 'a', 'gold', 'on', 'off', '1.0.0'),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
  key,
);
const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const hostile = fc.constantFrom(...HOSTILE);

const rule: fc.Arbitrary<unknown> = fc.letrec<{ rule: unknown }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    scalar,
    fc.record({ var: fc.oneof(key, fc.constantFrom('v.0', '$flagd.flagKey', ['a', 'dflt'])) }),
    fc.record({ $ref: fc.constantFrom('e0', 'e1', 'e2', 'ghost') }),
    fc
      .tuple(fc.constantFrom(...OPERATORS), fc.array(tie('rule'), { maxLength: 4 }))
      .map(([op, args]) => ({ [op]: args })),
    fc.constantFrom(
      {
        fractional: [
          ['on', 50],
          ['off', 50],
        ],
      },
      { fractional: [{ var: 'email' }, ['on', 1], ['off', 0]] },
      { in: [{ var: 'tier' }, ['gold', 'silver']] },
      { sem_ver: [{ var: 'v' }, '>=', '1.0.0'] },
      { reduce: [{ var: 'v' }, { merge: [{ var: 'accumulator' }, [{ var: 'current' }]] }, []] },
      { map: [{ var: 'v' }, { cat: [{ var: '' }, { var: '' }] }] },
    ),
    fc.array(tie('rule'), { maxLength: 3 }),
  ),
})).rule;

const variants = fc.oneof(
  fc.constant({ on: true, off: false }),
  fc.constant({ on: 'on', off: 'off', gold: 'gold' }),
  fc.constant({ on: 1, off: 0, half: 0.5 }),
  fc.constant({ on: { a: 1 }, off: { a: [1, 2] } }),
  fc.dictionary(key, json, { maxKeys: 3 }), // mixed types, empty, or odd names
);

const flag = fc.record(
  {
    state: fc.constantFrom('ENABLED', 'ENABLED', 'DISABLED', 'enabled'),
    variants,
    defaultVariant: fc.constantFrom('on', 'off', 'gold', null, '', 'missing', 7),
    targeting: fc.oneof(rule, fc.constant({})),
    metadata: fc.dictionary(key, scalar, { maxKeys: 2 }),
  },
  { requiredKeys: ['state', 'variants'] },
);

/** A configuration, sometimes made hostile: deep, wide, cyclic, or not a configuration at all. */
const configuration = fc
  .tuple(
    fc.dictionary(fc.constantFrom('f', 'g', '__proto__', 'x y'), flag, { minKeys: 1, maxKeys: 3 }),
    fc.option(fc.dictionary(fc.constantFrom('e0', 'e1', 'e2'), rule, { maxKeys: 3 })),
    fc.nat({ max: 19 }),
    hostile,
  )
  .map(([flags, evaluators, mutation, bad]): unknown => {
    const config: Record<string, unknown> = { flags };
    if (evaluators !== null) config['$evaluators'] = evaluators;
    switch (mutation) {
      case 0:
        return { ...config, extra: bad }; // deep, cyclic, huge or prototype-ish somewhere
      case 1:
        return { flags: { f: { ...Object.values(flags)[0], targeting: bad } } };
      case 2:
        return bad;
      case 3:
        return JSON.stringify(config); // as text (keys such as "__proto__" stay keys)
      case 4:
        return `flags:\n  f:\n    state: ENABLED\n    variants: {on: true}\n    extra: ${'['.repeat(300)}`;
      default:
        return config;
    }
  });

const context = fc.oneof(
  fc.dictionary(key, json, { maxKeys: 5 }),
  fc.record({ v: hostile, tier: fc.constantFrom('gold', 'x'), targetingKey: fc.string() }),
  fc.constant(JSON.parse('{"__proto__": {"tier": "gold"}, "tier": "silver"}') as object),
  hostile.filter((value): value is object => typeof value === 'object' && value !== null),
);

const DEFAULTS = { boolean: false, string: 'default', number: -7, object: { d: 1 } } as const;

function checkResult(result: EvaluationResult<unknown>, type: string, fallback: unknown) {
  expect(REASONS.has(result.reason)).toBe(true);
  expect(result.errorCode !== undefined).toBe(result.reason === 'ERROR');
  if (result.reason === 'ERROR' || result.reason === 'DISABLED' || result.variant === undefined) {
    expect(result.value).toBe(fallback);
    return;
  }
  if (type === 'any') return;
  const actual = Array.isArray(result.value) ? 'array' : typeof result.value;
  expect(actual === type || (type === 'integer' && Number.isInteger(result.value))).toBe(true);
}

describe('fuzz', () => {
  it(
    `loads and resolves ${RUNS} generated (configuration, context) pairs without a throw`,
    () => {
      fc.assert(
        fc.property(configuration, context, (config, ctx) => {
          const evaluator = createEvaluator();
          try {
            evaluator.setConfiguration(config as object);
          } catch (error) {
            if (!isInvalidConfigurationError(error)) throw error;
          }
          for (const flagKey of [...evaluator.flagKeys(), 'absent']) {
            checkResult(evaluator.resolveBoolean(flagKey, false, ctx), 'boolean', false);
            checkResult(evaluator.resolveString(flagKey, 'default', ctx), 'string', 'default');
            checkResult(evaluator.resolveNumber(flagKey, -7, ctx), 'number', -7);
            checkResult(evaluator.resolveInteger(flagKey, -7, ctx), 'integer', -7);
            checkResult(
              evaluator.resolveObject(flagKey, DEFAULTS.object, ctx),
              'object',
              DEFAULTS.object,
            );
            checkResult(evaluator.resolveValue(flagKey, ctx), 'any', undefined);
          }
        }),
        {
          numRuns: RUNS,
          ...(SEED === undefined ? {} : { seed: Number(SEED) }),
        },
      );
    },
    RUNS > 10_000 ? 24 * 60 * 60 * 1000 : 60_000,
  );
});
