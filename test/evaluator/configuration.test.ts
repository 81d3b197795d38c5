import { describe, expect, it, vi } from 'vitest';
import { createEvaluator, validateConfiguration } from '../../src/evaluator/index.js';
import { rejection } from './helpers.js';

const flag = (value: string, extra: object = {}) => ({
  state: 'ENABLED',
  variants: { a: value, b: 'other' },
  defaultVariant: 'a',
  ...extra,
});

describe('setConfiguration', () => {
  it('reports added, removed and changed flags', () => {
    const evaluator = createEvaluator();
    expect(evaluator.setConfiguration({ flags: { x: flag('1'), y: flag('2') } })).toEqual({
      added: ['x', 'y'],
      removed: [],
      changed: [],
    });
    expect(evaluator.setConfiguration({ flags: { y: flag('2b'), z: flag('3') } })).toEqual({
      added: ['z'],
      removed: ['x'],
      changed: ['y'],
    });
    expect(evaluator.resolveString('y', '').value).toBe('2b');
  });

  it('marks flags changed when a shared evaluator or the set metadata they use changes', () => {
    const evaluator = createEvaluator();
    const config = (rule: unknown, version: string) => ({
      metadata: { version },
      $evaluators: { gold: rule },
      flags: {
        uses: flag('1', { targeting: { if: [{ $ref: 'gold' }, 'b', null] } }),
        plain: flag('2'),
      },
    });
    evaluator.setConfiguration(config({ '==': [{ var: 't' }, 'gold'] }, '1'));
    expect(
      evaluator.setConfiguration(config({ '==': [{ var: 't' }, 'GOLD'] }, '1')).changed,
    ).toEqual(['uses']);
    expect(evaluator.resolveString('uses', '', { t: 'GOLD' }).value).toBe('other');
    expect(
      evaluator.setConfiguration(config({ '==': [{ var: 't' }, 'GOLD'] }, '2')).changed,
    ).toEqual(['uses', 'plain']);
  });

  it('treats an identical payload as a no-op and does not recompile unchanged flags', () => {
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const evaluator = createEvaluator({ logger });
    // the deprecated operator warns each time its flag is compiled
    const legacy = flag('1', {
      targeting: { fractionalEvaluation: ['email', ['a', 50], ['b', 50]] },
    });
    const text = JSON.stringify({ flags: { legacy, other: flag('2') } });
    evaluator.setConfiguration(text);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(evaluator.setConfiguration(text)).toEqual({ added: [], removed: [], changed: [] });
    expect(evaluator.setConfiguration(JSON.parse(text) as object)).toEqual({
      added: [],
      removed: [],
      changed: [],
    });
    evaluator.setConfiguration({ flags: { legacy, other: flag('3') } });
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('rejects a bad configuration whole, naming each problem, and keeps the last good one', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration({ flags: { keep: flag('good') } });
    const error = rejection(() =>
      evaluator.setConfiguration({
        flags: {
          keep: flag('new'),
          added: flag('x'),
          broken: { state: 'ON', variants: { a: true, b: 'no' }, defaultVariant: 'c' },
        },
      }),
    );
    expect(error.name).toBe('ParseError');
    expect(error.issues.map((i) => `${i.path} ${i.rule}`)).toEqual([
      'flags.broken.state enum',
      'flags.broken.variants.b variant-type',
      'flags.broken.defaultVariant default-variant',
    ]);
    expect(error.message).toContain('flags.broken.state');
    expect(evaluator.resolveString('keep', '').value).toBe('good');
    expect(evaluator.resolveString('added', 'none').errorCode).toBe('FLAG_NOT_FOUND');
  });

  it.each([
    ['not JSON', '{"flags": {', 'syntax'],
    ['empty text', '   ', 'syntax'],
    ['not an object', '[1, 2]', 'type'],
    ['no flags', '{"metadata": {}}', 'required'],
    ['a non-object flag', '{"flags": {"x": 1}}', 'type'],
    ['empty variants', '{"flags": {"x": {"state": "ENABLED", "variants": {}}}}', 'minProperties'],
    [
      'array variants',
      '{"flags": {"x": {"state": "ENABLED", "variants": {"a": [1]}}}}',
      'variant-type',
    ],
    [
      'null variants',
      '{"flags": {"x": {"state": "ENABLED", "variants": {"a": null}}}}',
      'variant-type',
    ],
    [
      'string targeting',
      '{"flags": {"x": {"state": "ENABLED", "variants": {"a": 1}, "targeting": "a"}}}',
      'type',
    ],
    [
      'object metadata',
      '{"flags": {"x": {"state": "ENABLED", "variants": {"a": 1}, "metadata": {"m": {}}}}}',
      'metadata-type',
    ],
    ['a numeric flagSetId', '{"metadata": {"flagSetId": 1}, "flags": {}}', 'type'],
    [
      'duplicate array keys',
      '{"flags": [{"key": "a", "state": "ENABLED", "variants": {"a": 1}}, {"key": "a", "state": "ENABLED", "variants": {"a": 1}}]}',
      'unique-key',
    ],
  ])('rejects %s', (_name, text, rule) => {
    const evaluator = createEvaluator();
    expect(rejection(() => evaluator.setConfiguration(text)).issues.map((i) => i.rule)).toContain(
      rule,
    );
  });

  it('reads YAML, and reports YAML errors with their position', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration(
      'flags:\n  dark-mode:\n    state: ENABLED\n    variants: { on: true, off: false }\n    defaultVariant: "on"\n',
    );
    expect(evaluator.resolveBoolean('dark-mode', false).value).toBe(true);
    const error = rejection(() => evaluator.setConfiguration('flags:\n  a: [1\n  b: 2'));
    expect(error.issues[0]?.rule).toBe('syntax');
    expect(error.issues[0]?.message).toMatch(/line \d+/);
  });

  it('accepts the array form of flags, as flagd does', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration({ flags: [{ key: 'a', ...flag('1') }] });
    expect(evaluator.resolveString('a', '').value).toBe('1');
  });

  it('enforces the size and depth limits', () => {
    const evaluator = createEvaluator({ maxConfigurationBytes: 100, maxDepth: 10 });
    expect(
      rejection(() =>
        evaluator.setConfiguration(JSON.stringify({ flags: { a: flag('x'.repeat(200)) } })),
      ).issues[0]?.rule,
    ).toBe('max-size');
    let deep: object = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { deeper: deep };
    const small = createEvaluator({ maxDepth: 10 });
    const error = rejection(() =>
      small.setConfiguration({ flags: { a: { state: 'ENABLED', variants: { a: deep } } } }),
    );
    expect(error.issues[0]?.rule).toBe('max-depth');
    let rule: unknown = 'a';
    for (let i = 0; i < 20; i++) rule = { if: [true, rule, null] };
    // nested too deep to read is nested too deep to load: refused whole, like any other document
    const deepRule = rejection(() =>
      small.setConfiguration({ flags: { a: { ...flag('1'), targeting: rule } } }),
    );
    expect(deepRule.issues[0]?.rule).toBe('max-depth');
    expect(deepRule.message).toMatch(/nested deeper than 10 levels/);
  });

  it('never lets __proto__ reach a prototype', () => {
    const text =
      '{"metadata": {"__proto__": "set"}, "flags": {"__proto__": {"state": "ENABLED", "variants": {"__proto__": "p", "b": "b"}, "defaultVariant": "__proto__", "metadata": {"__proto__": "m"}}}}';
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    const result = evaluator.resolveString('__proto__', '');
    expect(result).toMatchObject({ value: 'p', variant: '__proto__', reason: 'STATIC' });
    expect(Object.getPrototypeOf(result.flagMetadata)).toBe(Object.prototype);
    expect(Object.hasOwn(result.flagMetadata, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['p']).toBeUndefined();
    const yaml = createEvaluator();
    yaml.setConfiguration(
      'flags:\n  x:\n    state: ENABLED\n    variants:\n      __proto__: {polluted: true}\n',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('validateConfiguration', () => {
  it('returns errors and warnings without throwing', () => {
    const issues = validateConfiguration({
      flags: {
        bad: { state: 'ENABLED', variants: {} },
        rule: flag('1', {
          targeting: { if: [{ sem_ver: [{ var: 'v' }, '*', '1.0.0'] }, 'a', { nope: 1 }] },
        }),
      },
    });
    expect(issues.map((i) => [i.severity, i.path, i.rule])).toEqual([
      ['error', 'flags.bad.variants', 'minProperties'],
      ['warning', 'flags.rule.targeting.if[0].sem_ver[1]', 'sem-ver-operator'],
      ['warning', 'flags.rule.targeting.if[2]', 'unknown-operator'],
    ]);
    expect(validateConfiguration('{oops')).toMatchObject([{ severity: 'error', rule: 'syntax' }]);
  });
});

describe('configuration objects', () => {
  it('are copied: changing or freezing the caller object later does not reach the flags', () => {
    const config = { flags: { x: flag('before') } };
    const evaluator = createEvaluator();
    evaluator.setConfiguration(config);
    expect(validateConfiguration(config)).toEqual([]);
    config.flags.x.variants.a = 'after';
    expect(Object.isFrozen(config.flags.x.variants)).toBe(false);
    expect(evaluator.resolveString('x', '').value).toBe('before');
  });

  it('are rejected when they cannot be read as JSON', () => {
    const cyclic: Record<string, unknown> = { flags: {} };
    cyclic['self'] = cyclic;
    expect(rejection(() => createEvaluator().setConfiguration(cyclic)).issues[0]?.rule).toBe(
      'cycle',
    );
    expect(rejection(() => createEvaluator().setConfiguration({ n: 1n })).issues[0]?.rule).toBe(
      'syntax',
    );
  });
});
