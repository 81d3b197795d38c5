import fc from 'fast-check';
import jsonLogic from 'json-logic-js';
import { describe, expect, it } from 'vitest';
import { compileRule } from '../../src/evaluator/compile.js';
import { OPERATORS } from '../../src/evaluator/operators/index.js';
import { EvaluationEnv } from '../../src/evaluator/resolve.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** Runs a rule through rampflag's compiler, or reports what it threw. */
function ours(rule: unknown, data: unknown): { value: unknown } | { threw: true } {
  try {
    const compiled = compileRule(rule, 'rule', {
      operators: OPERATORS,
      maxDepth: 200,
      warn: () => undefined,
    });
    const env = new EvaluationEnv({ now: () => 0 }, silent, Infinity).reset('flag', data);
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
