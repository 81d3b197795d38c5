import fc from 'fast-check';
import jsonLogic from 'json-logic-js';
import { describe, expect, it } from 'vitest';
import { COMPOUND_RULE } from '../../bench/workload.js';
import { FlagdCore } from '@openfeature/flagd-core';
import { compileRule } from '../../src/evaluator/compile.js';
import { createEvaluator } from '../../src/evaluator/index.js';
import { OPERATORS } from '../../src/evaluator/operators/index.js';
import { EvaluationEnv } from '../../src/evaluator/resolve.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * Runs a rule through rampflag's compiler, or reports what it threw. `traced` compiles it as
 * `explain` does, which takes none of the fast paths (a `var` read in place by a comparison, an
 * unrolled `and`/`or`): the general path to compare them with.
 */
function ours(rule: unknown, data: unknown, traced = false): { value: unknown } | { threw: true } {
  try {
    const compiled = compileRule(rule, 'rule', {
      operators: OPERATORS,
      maxDepth: 200,
      warn: () => undefined,
      ...(traced ? { trace: true } : {}),
    });
    const trace = traced ? [] : undefined;
    const env = new EvaluationEnv({ now: () => 0 }, silent, Infinity, trace).reset('flag', data);
    return { value: compiled(data, env) };
  } catch {
    return { threw: true };
  }
}

function reference(rule: unknown, data: unknown): { value: unknown } | { threw: true } {
  try {
    return { value: jsonLogic.apply(rule as jsonLogic.RulesLogic, data) };
  } catch {
    return { threw: true };
  }
}

const primitive = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    1,
    -1,
    2,
    0.5,
    10,
    '',
    '0',
    '1',
    'a',
    'ab',
    'abc',
    'b',
    'true',
  ),
  fc.integer({ min: -5, max: 5 }),
);
const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    fc.array(tie('value'), { maxLength: 3 }),
    // Objects with exactly one key are left out: json-logic-js would run such data as a rule
    // (a divergence tested below).
    fc
      .dictionary(fc.constantFrom('a', 'b', 'x'), tie('value'), { maxKeys: 2 })
      .map((o) => (Object.keys(o).length === 1 ? { ...o, z: 1 } : o)),
  ),
})).value;
const data = fc.record(
  {
    a: json,
    b: json,
    c: fc.array(primitive, { maxLength: 4 }),
    n: fc.integer({ min: -3, max: 9 }),
    s: fc.constantFrom('abc', 'a', '', 'xyz'),
  },
  { requiredKeys: [] },
);
const path = fc.constantFrom(
  'a',
  'b',
  'c',
  'n',
  's',
  'a.a',
  'a.x',
  'c.0',
  'c.1',
  'missing',
  '',
  'current',
  'accumulator',
);

const UNARY = ['!', '!!'];
const BINARY = ['==', '===', '!=', '!==', '>', '>=', '%', '/', 'in'];
const TERNARY = ['<', '<=', 'substr', '-'];
const VARIADIC = ['+', '*', 'min', 'max', 'cat', 'merge', 'and', 'or', 'if', '?:', 'missing'];
const SCOPED = ['map', 'filter', 'reduce', 'all', 'none', 'some'];

const rule: fc.Arbitrary<unknown> = fc.letrec<{ rule: unknown }>((tie) => {
  const sub = tie('rule');
  return {
    rule: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      primitive,
      path.map((p) => ({ var: p })),
      fc.tuple(path, primitive).map(([p, d]) => ({ var: [p, d] })),
      fc.tuple(fc.constantFrom(...UNARY), sub).map(([op, a]) => ({ [op]: [a] })),
      fc.tuple(fc.constantFrom(...BINARY), sub, sub).map(([op, a, b]) => ({ [op]: [a, b] })),
      fc
        .tuple(fc.constantFrom(...TERNARY), fc.array(sub, { minLength: 1, maxLength: 3 }))
        .map(([op, args]) => ({ [op]: args })),
      fc
        .tuple(fc.constantFrom(...VARIADIC), fc.array(sub, { maxLength: 4 }))
        .map(([op, args]) => ({ [op]: args })),
      fc
        .tuple(
          fc.constantFrom(...SCOPED),
          fc.oneof(
            path.map((p) => ({ var: p })),
            fc.array(primitive, { maxLength: 3 }),
          ),
          sub,
          fc.option(sub, { nil: undefined }),
        )
        .map(([op, over, logic, initial]) => ({
          [op]: initial === undefined ? [over, logic] : [over, logic, initial],
        })),
      fc
        .tuple(primitive, fc.array(path, { maxLength: 3 }))
        .map(([n, keys]) => ({ missing_some: [n, keys] })),
      fc
        .tuple(sub, fc.array(primitive, { maxLength: 4 }))
        .map(([needle, hay]) => ({ in: [needle, hay] })),
    ),
  };
}).rule;

describe('differential: standard JSON Logic operators against json-logic-js', () => {
  it('gives the same result (or throws alike) for random rules and data', () => {
    fc.assert(
      fc.property(rule, data, (r, d) => {
        expect(ours(r, d)).toEqual(reference(r, d));
      }),
      { numRuns: 5000 },
    );
  });

  // Each intentional divergence, shown side by side.
  it('diverges: only own properties are read, so inherited ones are absent', () => {
    for (const p of ['constructor', 'toString', '__proto__', 'a.constructor']) {
      expect(reference({ var: p }, { a: {} })).not.toEqual({ value: null });
      expect(ours({ var: p }, { a: {} })).toEqual({ value: null });
    }
  });

  it('diverges: "log" (a side effect) is not an operator', () => {
    const log = console.log;
    console.log = () => undefined;
    try {
      expect(reference({ log: [1] }, {})).toEqual({ value: 1 });
    } finally {
      console.log = log;
    }
    expect(ours({ log: [1] }, {})).toEqual({ threw: true });
  });

  it('diverges: context data shaped like a rule is never run as one', () => {
    const data = { b: { cat: ['x', 'y'] } };
    expect(reference({ missing: [{ var: 'b' }] }, data)).toEqual({ value: [{ cat: ['x', 'y'] }] });
    expect(reference({ missing: [{ var: 'b' }] }, { b: { nope: 1 } })).toEqual({ threw: true });
    expect(ours({ missing: [{ var: 'b' }] }, { b: { nope: 1 } })).toEqual({ value: [{ nope: 1 }] });
  });

  it('diverges: $flagd at the root comes from the evaluation (flagd injects it)', () => {
    expect(reference({ var: '$flagd.flagKey' }, {})).toEqual({ value: null });
    expect(ours({ var: '$flagd.flagKey' }, {})).toEqual({ value: 'flag' });
  });
});

// Audience rules: `and`/`or` chains of comparisons between a context key and a literal (either
// way round), which compile to fast paths, over contexts of every type, keys absent too.
const audienceValue = fc.oneof(
  primitive,
  fc.constantFrom('pro', 'free', 'eu-west-1', 'us-east-1', 'eu-', '18', '500', ' 18 '),
  fc.array(primitive, { maxLength: 3 }),
  fc.constant({ z: 1, y: 2 }),
);
const audienceKey = fc.constantFrom('plan', 'age', 'seats', 'region', 'missing');
const literal = fc.oneof(primitive, fc.constantFrom('pro', 'eu-', 18, 500, '18'));
const comparison = fc
  .tuple(fc.constantFrom('==', '!=', '>', '>=', '<', '<='), audienceKey, literal, fc.boolean())
  .map(([op, key, value, flipped]) => ({
    [op]: flipped ? [value, { var: key }] : [{ var: key }, value],
  }));
const audienceRule: fc.Arbitrary<unknown> = fc.letrec<{ rule: unknown }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    comparison,
    fc
      .tuple(fc.constantFrom('and', 'or'), fc.array(tie('rule'), { maxLength: 6 }))
      .map(([op, args]) => ({ [op]: args })),
    fc.tuple(tie('rule'), literal, tie('rule')).map(([a, b, c]) => ({ if: [a, b, c] })),
    fc.tuple(tie('rule'), tie('rule')).map(([a, b]) => ({ if: [a, b] })),
    fc.tuple(tie('rule'), literal, literal).map(([a, b, c]) => ({ if: [a, b, c] })),
  ),
})).rule;
const audience = fc.record(
  { plan: audienceValue, age: audienceValue, seats: audienceValue, region: audienceValue },
  { requiredKeys: [] },
);
const stringTest = fc
  .tuple(
    fc.constantFrom('starts_with', 'ends_with'),
    audienceKey,
    fc.oneof(literal, fc.constantFrom('eu-', '-1', '')),
  )
  .map(([op, key, affix]) => ({ [op]: [{ var: key }, affix] }));

describe('differential: audience rules (and/or of comparisons) on their fast paths', () => {
  it('gives what json-logic-js gives, for any context values and missing keys', () => {
    fc.assert(
      fc.property(audienceRule, audience, (r, d) => {
        expect(ours(r, d)).toEqual(reference(r, d));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives what the general path gives, starts_with and ends_with included', () => {
    const rule = fc
      .tuple(
        fc.constantFrom('and', 'or'),
        fc.array(fc.oneof(comparison, stringTest, audienceRule), { maxLength: 6 }),
      )
      .map(([op, args]) => ({ [op]: args }));
    fc.assert(
      fc.property(rule, fc.oneof(audience, fc.constantFrom(null, 'text', 7, [1, 2])), (r, d) => {
        expect(ours(r, d)).toEqual(ours(r, d, true));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    [{ and: [] }, {}],
    [{ or: [] }, {}],
    [{ and: [{ '==': [{ var: 'a' }, null] }] }, {}],
    [{ and: [{ '==': [{ var: 'a' }, null] }, { var: 'b' }] }, { b: [] }],
    [{ or: [{ '<': [{ var: 'a' }, 1] }, { var: 'b' }, { var: 'c' }] }, { a: [5], b: 0, c: '' }],
    [{ and: [1, 'x', [1], { var: 'a' }] }, { a: [] }],
    [{ or: [0, '', [], { var: 'a' }, 'last'] }, { a: false }],
    [{ '>': [{ var: 'a' }, '10'] }, { a: '9' }],
    [{ '>': ['10', { var: 'a' }] }, { a: 9 }],
    [{ '==': [{ var: 'a' }, 1] }, { a: [1] }],
    [{ '!=': [true, { var: 'a' }] }, { a: '1' }],
    [{ '<=': [{ var: 'a' }, null] }, {}],
  ])('keeps truthiness and coercion at the edges: %j on %j', (rule, data) => {
    expect(ours(rule, data)).toEqual(reference(rule, data));
    expect(ours(rule, data)).toEqual(ours(rule, data, true));
  });
});

describe('differential: a compound targeting rule against flagd-core', () => {
  const variants = { control: 'control', treatment: 'treatment', holdout: 'holdout', off: 'off' };
  const targeting = COMPOUND_RULE; // the rule the bench measures
  const text = JSON.stringify({
    flags: { compound: { state: 'ENABLED', variants, defaultVariant: 'off', targeting } },
  });
  const evaluator = createEvaluator();
  evaluator.setConfiguration(text);
  const core = new FlagdCore(undefined, silent);
  core.setConfigurations(text);
  const context = fc.record(
    {
      targetingKey: fc.string({ maxLength: 12 }).map((s) => `user-${s}`),
      plan: fc.oneof(fc.constantFrom('pro', 'free', 'Pro'), primitive),
      age: fc.oneof(fc.integer({ min: 0, max: 90 }), fc.constantFrom('19', '18', 18.5)),
      seats: fc.oneof(fc.integer({ min: 0, max: 900 }), fc.constantFrom('499', '500')),
      region: fc.oneof(fc.constantFrom('eu-west-1', 'us-east-1', 'eu-', 'EU-x'), primitive),
    },
    { requiredKeys: ['targetingKey'] },
  );

  // flagd-core compiles rules with `new Function`, which the no-eval project forbids.
  it.skipIf(process.env['RAMPFLAG_NO_DYNAMIC_CODE'] === '1')(
    'resolves the same variant for any context (ASCII keys) flagd-core resolves',
    () => {
      let compared = 0;
      fc.assert(
        fc.property(context, (ctx) => {
          const theirs = core.resolveStringEvaluation('compound', 'default', ctx, silent);
          // flagd-core fails on some mistyped contexts (`"plan": false`) where flagd does not
          if (theirs.reason === 'ERROR') return;
          compared++;
          const ourResult = evaluator.resolveString('compound', 'default', ctx);
          expect(ourResult.variant).toBe(theirs.variant);
          expect(ourResult.value).toBe(theirs.value);
        }),
        { numRuns: 3000 },
      );
      expect(compared).toBeGreaterThan(1500);
    },
  );
});

describe('differential: fractional keyed by cat of two parts, against the general path', () => {
  const buckets = [
    ['on', 5],
    ['off', 95],
  ];
  const rules = [
    { fractional: [{ cat: [{ var: '$flagd.flagKey' }, { var: 'targetingKey' }] }, ...buckets] },
    { fractional: [{ cat: [{ var: 'a' }, { var: 'b' }] }, ...buckets] },
    { fractional: [{ cat: ['prefix-', { var: 'b' }] }, ...buckets] },
  ];
  const part = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(null, 7, true, [1, 2], ['x'], { z: 1, y: 2 }),
  );
  const context = fc.record({ targetingKey: part, a: part, b: part }, { requiredKeys: [] });

  it('buckets every context as the traced (general) compilation does', () => {
    fc.assert(
      fc.property(fc.constantFrom(...rules), context, (rule, ctx) => {
        expect(ours(rule, ctx)).toEqual(ours(rule, ctx, true));
      }),
      { numRuns: 5000 },
    );
  });
});
