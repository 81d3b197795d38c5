import { describe, expect, it, vi } from 'vitest';
import { compilesQuietly } from '../../src/evaluator/rule-check.js';
import { operatorsFor } from '../../src/evaluator/flag.js';
import { DEFAULT_LIMITS, loadSnapshot } from '../../src/evaluator/load.js';
import { createEvaluator } from '../../src/evaluator/index.js';
import { flagTexts, scanConfigurationJson } from '../../src/evaluator/flag-texts.js';
import { textDepth } from '../../src/evaluator/json-limits.js';
import type { Snapshot } from '../../src/evaluator/store.js';

const operators = operatorsFor(new Map([['shared', { '==': [1, 1] }]]), DEFAULT_LIMITS);
const quiet = (rule: unknown, maxDepth = 128) => compilesQuietly(rule, operators, maxDepth);
const EMPTY: Snapshot = { flags: new Map(), metadata: {}, evaluators: new Map() };

describe('compilesQuietly: which targeting may wait for its first evaluation', () => {
  it.each([
    [{ if: [{ in: [{ var: 'ring' }, ['a', 'b']] }, 'on', 'off'] }],
    [{ and: [{ '==': [{ var: 'plan' }, 'pro'] }, { starts_with: [{ var: 'r' }, 'eu-'] }] }],
    [{ fractional: [{ var: 'k' }, ['a', 50], ['b', 50]] }],
    [{ fractional: [['a', 1], ['b', 2], ['c']] }],
    [{ sem_ver: [{ var: 'v' }, '>=', '1.2.3'] }],
    [{ a: { nope: 1 }, b: 2 }], // data, not an operation
  ])('compiles %j when first evaluated', (rule) => {
    expect(quiet(rule)).toBe(true);
  });

  it.each([
    ['an unknown operator', { if: [{ nope: [1] }, 'on', 'off'] }],
    [
      'an unknown operator where the operator ignores it',
      { starts_with: [{ nope: [] }, 'a', 'b'] },
    ],
    ['a $ref', { $ref: 'shared' }],
    ['the deprecated fractionalEvaluation', { fractionalEvaluation: ['email', ['a', 50]] }],
    ['invalid literal buckets', { fractional: [['a', -1]] }],
    ['no buckets at all', { fractional: [{ var: 'k' }] }],
    ['buckets that may fold to constants', { fractional: [['a', { '+': [1, 2] }]] }],
    ['a "__proto__" operator', JSON.parse('{"__proto__": [1]}') as unknown],
  ])('compiles at load: %s', (_why, rule) => {
    expect(quiet(rule)).toBe(false);
  });

  it('compiles at load a rule nested deeper than maxDepth, arguments the operator ignores too', () => {
    expect(quiet({ if: [[[[1]]]] }, 4)).toBe(true);
    expect(quiet({ if: [[[[[1]]]]] }, 4)).toBe(false);
    expect(quiet({ starts_with: [[[[[[1]]]]], 'a', 'b'] }, 4)).toBe(false);
  });
});

describe('deferred compilation', () => {
  const text = JSON.stringify({
    flags: {
      later: {
        state: 'ENABLED',
        variants: { on: true, off: false },
        defaultVariant: 'off',
        targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'on', 'off'] },
      },
      now: {
        state: 'ENABLED',
        variants: { on: true, off: false },
        defaultVariant: 'off',
        targeting: { if: [{ nope: [] }, 'on', 'off'] },
      },
    },
  });

  it('leaves a quiet targeting uncompiled at load and compiles it once, when first evaluated', () => {
    const snapshot = loadSnapshot(text, EMPTY, DEFAULT_LIMITS, () => {});
    const later = snapshot.flags.get('later');
    expect(later?.rule).toBeUndefined();
    expect(later?.deferred).toBeDefined();
    // a targeting that cannot compile is still compiled, and reported, at load
    expect(snapshot.flags.get('now')?.ruleError).toMatch(/unknown operator "nope"/);
  });

  it('evaluates a deferred flag as an eager one, and warns at load only for what fails', () => {
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const evaluator = createEvaluator({ logger });
    evaluator.setConfiguration(text);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(evaluator.resolveBoolean('later', false, { plan: 'pro' })).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
    });
    expect(evaluator.resolveBoolean('later', true, { plan: 'free' }).value).toBe(false);
    expect(evaluator.resolveBoolean('now', true, {})).toMatchObject({ reason: 'ERROR' });
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('keeps a flag deferred across a reload that leaves it unchanged (in other whitespace too)', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    const spaced = JSON.stringify(JSON.parse(text), null, 2);
    expect(evaluator.setConfiguration(spaced)).toEqual({ added: [], removed: [], changed: [] });
    expect(evaluator.resolveBoolean('later', false, { plan: 'pro' }).value).toBe(true);
    expect(evaluator.explain('later', { plan: 'pro' }).result.variant).toBe('on');
  });
});

describe('flagTexts', () => {
  it('finds each flag text, the last of a repeated key, in the map and the array forms', () => {
    const text =
      ' { "x": [1, {"flags": 2}], "flags" : { "a" : {"v": "}"} , "b\\u0022": [ 1 ], "a": {"w": "\\"]"} } } ';
    expect(Object.fromEntries(flagTexts(text) ?? [])).toEqual({
      a: '{"w": "\\"]"}',
      'b"': '[ 1 ]',
    });
    expect([...(flagTexts('{"flags":[{"key":"a"}, 3 ,"s"]}') ?? [])]).toEqual([
      [0, '{"key":"a"}'],
      [1, '3'],
      [2, '"s"'],
    ]);
    expect(flagTexts('{"flags": 3}')).toBeUndefined();
    expect(flagTexts('[1]')).toBeUndefined();
  });

  it('measures the depth as textDepth does, on any text, in the same pass', () => {
    const texts = [
      '',
      '{',
      '"unterminated [',
      '[[]]]]{{',
      '{"a": "\\"[", "b": [[{"c": "}}"}]]}',
      '{"flags": {"a": {"b": [[[]]]}}, "flags": 3}',
      ' { "x": [1, {"flags": 2}], "flags" : { "a" : {"v": "}"} } } ',
      '{"flags": [], "z": {}}',
    ];
    for (const text of texts) expect(scanConfigurationJson(text).depth).toBe(textDepth(text));
    expect(scanConfigurationJson('{"flags": 3}').flags).toBeUndefined();
    expect(flagTexts('{"flags": {"a": 1}, "flags": []}')?.size).toBe(0);
  });

  it('marks the flags whose text holds a backslash or $ref, and only those', () => {
    const text =
      '{"flags": {"a\\u0062": {"v": 1}, "b": {"v": "\\n"}, "c": {"$ref": "x"}, "d": {"v": "$re"}}}';
    const escaped = (text: string) => {
      const found = scanConfigurationJson(text).flags;
      const members = Array.from({ length: found?.count ?? 0 }, (_, m) => m);
      return members.filter((m) => found?.escaped(m)).map((m) => found?.key(m));
    };
    expect(escaped(text)).toEqual(['b', 'c']);
    expect([...(flagTexts(text)?.keys() ?? [])]).toEqual(['ab', 'b', 'c', 'd']);
    expect(escaped('{"flags": [{"k": "$ref"}, {"k": 1}]}')).toEqual([0]);
    // a backslash in an earlier string of a flag, later strings in it and in the next flag
    expect(
      escaped('{"flags":{"a":{"x":"\\u0024ref","y":"z"},"b":{"x":"\\n"},"c":{"x":"y"}}}'),
    ).toEqual(['a', 'b']);
  });
});

describe('reloads', () => {
  it('keep no earlier document alive through the flags they keep', () => {
    const text = (variant: string) =>
      JSON.stringify({
        flags: {
          same: { state: 'ENABLED', variants: { a: 'a-long-variant-value' }, defaultVariant: 'a' },
          moving: { state: 'ENABLED', variants: { v: variant }, defaultVariant: 'v' },
        },
      });
    const second = text('2');
    const previous = loadSnapshot(text('1'), EMPTY, DEFAULT_LIMITS, () => {});
    const next = loadSnapshot(second, previous, DEFAULT_LIMITS, () => {});
    const kept = next.flags.get('same');
    const old = previous.flags.get('same');
    // the unchanged flag carries the new definition (its text a slice of the new document), not
    // the old one, whose text is a slice of the old document
    expect(kept?.definition).not.toBe(old?.definition);
    expect(kept?.definition.source).toBe(old?.definition.source);
  });
});
