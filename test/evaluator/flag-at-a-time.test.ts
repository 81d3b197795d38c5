import { describe, expect, it, vi } from 'vitest';
import { createEvaluator, validateConfiguration } from '../../src/evaluator/index.js';
import { readInput, DEFAULT_LIMITS } from '../../src/evaluator/load.js';
import { rejection } from './helpers.js';

/**
 * A JSON configuration is loaded a flag at a time: the document without its flags is parsed, then
 * each flag's text on its own. These tests hold it to what parsing the text whole gives.
 */

const flag = (value: string, targeting?: unknown) => ({
  state: 'ENABLED',
  variants: { v: value, w: `${value}-w` },
  defaultVariant: 'v',
  ...(targeting === undefined ? {} : { targeting }),
});

/** The message `JSON.parse` gives for the whole text. */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the text is JSON');
}

describe('loading a flag at a time', () => {
  it.each([
    ['in a flag', '{"flags": {"a": {"state": "ENABLED",, "variants": {}}}}'],
    ['in a later flag', `{"flags": {"a": ${JSON.stringify(flag('1'))}, "b": {"state": tru}}}`],
    ['between flags', `{"flags": {"a": ${JSON.stringify(flag('1'))} "b": {}}}`],
    ['in a key', `{"flags": {"a\u0001": ${JSON.stringify(flag('1'))}}}`],
    ['after the flags', `{"flags": {"a": ${JSON.stringify(flag('1'))}}, "metadata": {,}}`],
    ['in the array form', `{"flags": [${JSON.stringify({ key: 'a', ...flag('1') })}, {"key": }]}`],
    ['a bad escape in a flag', '{"flags": {"a": {"state": "\\x"}}}'],
    ['a control character in a flag', '{"flags": {"a": {"state": "EN\u0001ABLED"}}}'],
    ['a comma before the first flag', `{"flags": {, "a": ${JSON.stringify(flag('1'))}}}`],
    ['a key without its colon', `{"flags": {"a" ${JSON.stringify(flag('1'))}}}`],
    ['a last key without its value', `{"flags": {"b": ${JSON.stringify(flag('1'))}, "a": }}`],
    ['a colon for a value', `{"flags": {"a": :${JSON.stringify(flag('1'))}}}`],
    ['a key without its value', `{"flags": {"a": , "b": ${JSON.stringify(flag('1'))}}}`],
    [
      'a colon after a value',
      `{"flags": {"a": ${JSON.stringify(flag('1'))}: ${JSON.stringify(flag('1'))}}}`,
    ],
    ['a comma after the last flag', `{"flags": {"a": ${JSON.stringify(flag('1'))},}}`],
    ['a bracket closing the flags', `{"flags": {"a": ${JSON.stringify(flag('1'))}]}`],
    ['two keys in a row', `{"flags": {"a" "b": ${JSON.stringify(flag('1'))}}}`],
    ['a bad escape in a key', `{"flags": {"a\\x": ${JSON.stringify(flag('1'))}}}`],
    ['a key that never ends', `{"flags": {"a: ${JSON.stringify(flag('1'))}}}`],
  ])(
    'refuses text that is not JSON (%s) with the error JSON.parse gives the whole text',
    (_, text) => {
      const error = rejection(() => createEvaluator().setConfiguration(text));
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]).toMatchObject({ rule: 'syntax' });
      expect(error.message).toContain(jsonError(text));
      expect(validateConfiguration(text)).toEqual([
        expect.objectContaining({ rule: 'syntax', message: `not valid JSON: ${jsonError(text)}` }),
      ]);
    },
  );

  it('refuses a syntax error in a later flag, not the structural errors of earlier ones', () => {
    const text = `{"flags": {"a": {"state": "ON"}, "b": ${JSON.stringify(flag('1'))}, "c": [}}`;
    const error = rejection(() => createEvaluator().setConfiguration(text));
    expect(error.issues.map((issue) => issue.rule)).toEqual(['syntax']);
  });

  it('refuses a key given twice whose first value is not JSON, as JSON.parse does', () => {
    const text = `{"flags": {"a": {"state": }, "a": ${JSON.stringify(flag('1'))}}}`;
    expect(rejection(() => createEvaluator().setConfiguration(text)).message).toContain(
      jsonError(text),
    );
  });

  it('keeps the last value of a key given twice', () => {
    const text = `{"flags": {"a": ${JSON.stringify(flag('first'))}, "b": ${JSON.stringify(flag('b'))}, "a": ${JSON.stringify(flag('last'))}}}`;
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    expect(evaluator.flagKeys()).toEqual(['a', 'b']);
    expect(evaluator.resolveString('a', 'x').value).toBe('last');
    expect(evaluator.resolveString('b', 'x').value).toBe('b');
  });

  it('gives the array form a syntax error before refusing the form under the providers schema', () => {
    const text = `{"flags": [${JSON.stringify({ key: 'a', ...flag('1') })}, {"key": "b",}]}`;
    expect(validateConfiguration(text, { schema: 'flags' })).toEqual([
      expect.objectContaining({ rule: 'syntax' }),
    ]);
    const valid = `{"flags": [${JSON.stringify({ key: 'a', ...flag('1') })}]}`;
    expect(validateConfiguration(valid, { schema: 'flags' })[0]?.rule).toBe('type');
  });

  it('matches each flag to its own text when keys look like array indexes (listed first)', () => {
    // Object.keys lists "2" and "10" before "b" and "a", whatever the text's order
    const flags = {
      b: flag('b', { if: [{ '==': [{ var: 'k' }, 'b'] }, 'w', null] }),
      10: flag('ten'),
      a: flag('a', { if: [{ '==': [{ var: 'k' }, 'a'] }, 'w', null] }),
      2: flag('two'),
      '-1': flag('minus-one'),
      '01': flag('zero-one'),
    };
    const text = `{"flags": {${Object.entries(flags)
      .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`)
      .join(', ')}}}`;
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    for (const key of Object.keys(flags)) {
      const value = flags[key as keyof typeof flags].variants.v;
      expect(evaluator.resolveString(key, 'x').value).toBe(value);
    }
    expect(evaluator.resolveString('a', 'x', { k: 'a' }).value).toBe('a-w');
    expect(evaluator.resolveString('b', 'x', { k: 'b' }).value).toBe('b-w');
    expect(evaluator.resolveString('b', 'x', { k: 'a' }).value).toBe('b');
    // each flag's text, as explain and change detection read it, is its own
    const read = readInput(text, DEFAULT_LIMITS);
    for (const { definition } of read.flags) {
      expect(JSON.parse(definition.source)).toEqual(flags[definition.key as keyof typeof flags]);
    }
  });

  it('reads escaped keys and keys that only look alike', () => {
    const text = `{"flags": {"\\u0031": ${JSON.stringify(flag('one'))}, "1 ": ${JSON.stringify(flag('one-space'))}, "__proto__": ${JSON.stringify(flag('proto'))}}}`;
    const evaluator = createEvaluator();
    evaluator.setConfiguration(text);
    expect(evaluator.resolveString('1', 'x').value).toBe('one');
    expect(evaluator.resolveString('1 ', 'x').value).toBe('one-space');
    expect(evaluator.resolveString('__proto__', 'x').value).toBe('proto');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('logs nothing from compiling when the configuration is refused, and logs it when it loads', () => {
    const warn = vi.fn();
    const logger = { warn, error: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const evaluator = createEvaluator({ logger });
    const warns = flag('1', { if: [{ nope: [] }, 'v', 'w'] });
    const refused = JSON.stringify({ flags: { a: warns, b: { state: 'ON' } } });
    expect(rejection(() => evaluator.setConfiguration(refused)).issues[0]?.rule).toBe('enum');
    expect(warn).not.toHaveBeenCalled();
    evaluator.setConfiguration(JSON.stringify({ flags: { a: warns, b: flag('2') } }));
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/flag "a" .*unknown operator "nope"/));
  });

  it('loads text, the same text respaced and the same object alike', () => {
    const config = {
      metadata: { flagSetId: 'set', version: '1' },
      $evaluators: { internal: { in: [{ var: 'ring' }, ['internal', 'beta']] } },
      flags: {
        ref: flag('r', { if: [{ $ref: 'internal' }, 'w', null] }),
        meta: { ...flag('m'), metadata: { owner: 'x', n: 1, b: true } },
        meta2: { ...flag('m2'), metadata: { owner: 'x', n: 1, b: true } },
        other: { ...flag('o'), metadata: { n: '1', owner: 'x', b: true } },
        escaped: flag('line\nbreak'),
      },
    };
    const loaded = [JSON.stringify(config), JSON.stringify(config, null, 2), config].map(
      (input) => {
        const evaluator = createEvaluator();
        evaluator.setConfiguration(input);
        return evaluator;
      },
    );
    for (const evaluator of loaded) {
      expect(evaluator.flagKeys()).toEqual(Object.keys(config.flags));
      expect(evaluator.resolveString('ref', 'x', { ring: 'beta' }).value).toBe('r-w');
      expect(evaluator.resolveString('escaped', 'x').value).toBe('line\nbreak');
      expect(evaluator.resolveString('meta', 'x').flagMetadata).toEqual({
        flagSetId: 'set',
        version: '1',
        owner: 'x',
        n: 1,
        b: true,
      });
      // equal metadata is shared; metadata that differs (1 and "1") is not
      const meta = evaluator.resolveString('meta', 'x').flagMetadata;
      expect(evaluator.resolveString('meta2', 'x').flagMetadata).toBe(meta);
      expect(evaluator.resolveString('other', 'x').flagMetadata).not.toBe(meta);
      expect(evaluator.resolveString('other', 'x').flagMetadata['n']).toBe('1');
    }
    // none of the three changes a flag for the others
    const [text, spaced, object] = loaded as [
      (typeof loaded)[0],
      (typeof loaded)[0],
      (typeof loaded)[0],
    ];
    expect(text.setConfiguration(JSON.stringify(config, null, 2))).toEqual({
      added: [],
      removed: [],
      changed: [],
    });
    expect(spaced.setConfiguration(config).changed).toEqual([]);
    expect(object.setConfiguration(JSON.stringify(config)).changed).toEqual([]);
  });

  it('sees a change of flag-set metadata as a change of every flag', () => {
    const evaluator = createEvaluator();
    const config = (version: string) =>
      JSON.stringify({ metadata: { version }, flags: { a: flag('a'), b: flag('b') } });
    evaluator.setConfiguration(config('1'));
    expect(evaluator.setConfiguration(config('2')).changed).toEqual(['a', 'b']);
    expect(evaluator.resolveString('a', 'x').flagMetadata).toEqual({ version: '2' });
  });

  it.each([
    ['keys that look like array indexes', (i: number) => String(i)],
    ['escaped keys', (i: number) => `f\\u00${(i % 10) + 30}-${i}`],
    ['a key given twice', (i: number) => (i === 1 ? 'flag-0' : `flag-${i}`)],
  ])('loads flags with %s in linear time', (_, keyOf) => {
    const text = (count: number) =>
      `{"flags": {${Array.from(
        { length: count },
        (_, i) => `"${keyOf(i)}": ${JSON.stringify(flag(String(i)))}`,
      ).join(',')}}}`;
    const timed = (input: string) => {
      const times = [0, 1, 2].map(() => {
        const start = performance.now();
        createEvaluator().setConfiguration(input);
        return performance.now() - start;
      });
      return Math.min(...times);
    };
    const [small, large] = [text(4_000), text(32_000)];
    timed(small); // warm
    // 8 times the flags: linear takes about 8 times as long, quadratic 64 times
    expect(timed(large)).toBeLessThan(24 * timed(small));
  });

  describe('a "$ref" written with an escape ("\\u0024ref") is a "$ref" all the same', () => {
    const config = (shared: unknown, targeting: unknown, array = false) => {
      const a = { ...flag('a'), targeting, metadata: { note: 'x' } };
      const flags = array ? [{ key: 'a', ...a }] : { a };
      return JSON.stringify({ $evaluators: { shared }, flags }).replaceAll(
        '"$ref"',
        '"\\u0024ref"',
      );
    };
    const uses = { if: [{ $ref: 'shared' }, 'w', 'v'] };

    it.each([false, true])(
      'a change of the evaluator it uses changes the flag (array form: %s)',
      (array) => {
        const evaluator = createEvaluator();
        evaluator.setConfiguration(config({ '==': [1, 1] }, uses, array));
        expect(evaluator.resolveString('a', 'x').value).toBe('a-w');
        expect(evaluator.setConfiguration(config({ '==': [1, 2] }, uses, array)).changed).toEqual([
          'a',
        ]);
        expect(evaluator.resolveString('a', 'x').value).toBe('a');
      },
    );

    it('counts toward the limit on a rule with its $refs inlined', () => {
      const shared = { and: Array.from({ length: 30 }, () => ({ '==': [1, 1] })) };
      const many = {
        if: [{ or: Array.from({ length: 5 }, () => ({ $ref: 'shared' })) }, 'w', 'v'],
      };
      const escaped = config(shared, many);
      const plain = escaped.replaceAll('"\\u0024ref"', '"$ref"');
      expect(escaped).not.toBe(plain);
      const issues = (text: string) =>
        rejection(() => createEvaluator({ maxRuleNodes: 200 }).setConfiguration(text)).issues;
      expect(issues(plain)).toEqual([expect.objectContaining({ path: 'flags.a.targeting' })]);
      expect(issues(escaped)).toEqual(issues(plain));
      expect(validateConfiguration(escaped, { maxRuleNodes: 200 })).toEqual(
        validateConfiguration(plain, { maxRuleNodes: 200 }),
      );
    });
  });
});
