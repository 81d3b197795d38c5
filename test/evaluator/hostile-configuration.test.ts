import { describe, expect, it } from 'vitest';
import { createEvaluator, validateConfiguration } from '../../src/evaluator/index.js';
import { rejection } from './helpers.js';

const flag = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' };

/** `{"flags": {"f": {…flag, "extra": [[[…]]]}}}`, the extra key nested `depth` deep. */
const deepJson = (depth: number) =>
  `{"flags":{"f":{"state":"ENABLED","variants":{"on":true},"defaultVariant":"on","extra":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;

function deepObject(depth: number): object {
  let deep: unknown[] = [];
  const root = deep;
  for (let i = 0; i < depth; i++) deep.push((deep = []));
  return { flags: { f: { ...flag, extra: root } } };
}

describe('hostile configurations', () => {
  it('refuses JSON text nested 100,000 deep before parsing it, naming the depth', () => {
    const error = rejection(() => createEvaluator().setConfiguration(deepJson(100_000)));
    expect(error.issues[0]).toMatchObject({ rule: 'max-depth' });
    expect(error.message).toMatch(
      /nested 100003 levels deep at flags\.f\.extra.*, over the limit of 128/,
    );
    expect(validateConfiguration(deepJson(100_000))[0]?.rule).toBe('max-depth');
  });

  it.each([
    ['flow collections', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['compact sequences', '- '.repeat(20_000) + '1'],
    [
      'indentation',
      Array.from({ length: 2_000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1',
    ],
    ['flow mappings in a block', 'flags:\n  f:\n    extra: ' + '{a: '.repeat(5_000)],
  ])('refuses YAML nested too deep (%s) with a depth error', (_, text) => {
    const error = rejection(() => createEvaluator().setConfiguration(text));
    expect(error.issues[0]?.rule).toBe('max-depth');
    expect(error.message).toMatch(/nested \d+ levels deep.*, over the limit of 128/);
  });

  it('still reads ordinary YAML, brackets in quotes and comments included', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration(
      [
        'flags:',
        '  f:  # a comment with [[[[',
        '    state: ENABLED',
        '    variants: {on: "[[[[", "off": \'it\'\'s [\'}',
        '    defaultVariant: "on"',
        '    targeting:',
        '      if:',
        '        - in: [{var: email}, [a, b]]',
        '        - "off"',
      ].join('\n'),
    );
    expect(evaluator.resolveString('f', 'x', { email: 'a' }).value).toBe("it's [");
  });

  it('refuses a deep, cyclic or exponentially shared object with an InvalidConfigurationError', () => {
    const evaluator = createEvaluator();
    expect(rejection(() => evaluator.setConfiguration(deepObject(5_000))).issues[0]?.rule).toBe(
      'max-depth',
    );
    const cyclic: Record<string, unknown> = { ...flag };
    cyclic['self'] = cyclic;
    expect(rejection(() => evaluator.setConfiguration({ flags: { f: cyclic } })).message).toMatch(
      /cycle/,
    );
    let shared: unknown[] = ['leaf'];
    for (let i = 0; i < 60; i++) shared = [shared, shared];
    const started = performance.now();
    const error = rejection(() =>
      evaluator.setConfiguration({ flags: { f: { ...flag, extra: shared } } }),
    );
    expect(error.issues[0]?.rule).toBe('max-size');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(validateConfiguration(deepObject(5_000))[0]?.rule).toBe('max-depth');
  });

  it('accepts an object shared by several flags (not a cycle)', () => {
    const variants = { on: true, off: false };
    const evaluator = createEvaluator();
    evaluator.setConfiguration({ flags: { a: { ...flag, variants }, b: { ...flag, variants } } });
    expect(evaluator.flagKeys()).toEqual(['a', 'b']);
  });

  it('turns anything unexpected while loading into an InvalidConfigurationError', () => {
    const throwing = {
      get flags(): never {
        throw new TypeError('boom');
      },
    };
    const evaluator = createEvaluator();
    expect(rejection(() => evaluator.setConfiguration(throwing)).message).toMatch(/boom/);
    expect(validateConfiguration(throwing)[0]?.message).toMatch(/boom/);
    const angry = createEvaluator({
      logger: {
        error() {},
        info() {},
        debug() {},
        warn() {
          throw new Error('logger down');
        },
      },
    });
    const legacy = { ...flag, targeting: { fractionalEvaluation: ['e', ['on', 1]] } };
    expect(rejection(() => angry.setConfiguration({ flags: { legacy } })).message).toMatch(
      /logger down/,
    );
  });
});
