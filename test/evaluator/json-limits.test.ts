import { describe, expect, it } from 'vitest';
import {
  exceedsDepth,
  parseJsonText,
  pathPastDepth,
  textDepth,
} from '../../src/evaluator/json-limits.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('json limits', () => {
  it.each([
    ['1', 0],
    ['{}', 1],
    ['{"a":[{"b":1}]}', 3],
    ['{"a":"[[[[{{{"}', 1],
    ['{"a":"\\"[[["}', 1],
  ])('counts the depth of %s as %i', (text, depth) => expect(textDepth(text)).toBe(depth));

  it('refuses text nested past the limit before parsing it', () => {
    expect(() => parseJsonText(nested(100_000), { maxBytes: 1e6, maxDepth: 128 })).toThrow(
      /nested 100000 levels deep at \[0\]\[0\]\[0\]\[0\]…, over the limit of 128/,
    );
    expect(parseJsonText(nested(128), { maxBytes: 1e6, maxDepth: 128 })).toBeInstanceOf(Array);
  });

  it('names the limit broken', () => {
    expect(() => parseJsonText('{"a":1}', { maxBytes: 3, maxDepth: 8 })).toThrow(
      expect.objectContaining({ rule: 'max-size' }),
    );
    expect(() => parseJsonText('{"a":', { maxBytes: 100, maxDepth: 8 })).toThrow(
      expect.objectContaining({ rule: 'syntax' }),
    );
  });

  it('measures parsed values iteratively, cycles counting as too deep', () => {
    const deep = JSON.parse(nested(100_000)) as unknown;
    expect(exceedsDepth(deep, 128)).toBe(true);
    expect(exceedsDepth({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(exceedsDepth({ a: [{ b: {} }] }, 3)).toBe(true);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(exceedsDepth(cycle, 128)).toBe(true);
  });
});

describe('where JSON text is nested too deep', () => {
  it.each([
    ['{"a":{"b":[1,{"c":{}}]}}', 3, 'a.b[1]'],
    ['{"x":1,"$evaluators":{"e":{"if":[{"if":[{}]}]}}}', 4, '$evaluators.e.if[0]'],
    ['{"a\\"b":[[[]]]}', 2, '["a\\"b"][0]'],
    ['[0,"]",[[]]]', 2, '[2][0]'],
    ['{"a":[]}', 2, undefined],
  ])('finds %s past %i levels at %s', (text, depth, path) => {
    expect(pathPastDepth(text, depth)).toBe(path);
  });

  it('names the path in the error', () => {
    const text = `{"$evaluators":{"deep":${'{"if":['.repeat(5000)}true${']}'.repeat(5000)}}}`;
    expect(() => parseJsonText(text, { maxBytes: 1e6, maxDepth: 128 })).toThrow(
      expect.objectContaining({
        rule: 'max-depth',
        path: '$evaluators.deep.if[0]…',
        message: expect.stringMatching(
          /at \$evaluators\.deep\.if\[0\]…, over the limit of 128/,
        ) as string,
      }),
    );
  });
});
