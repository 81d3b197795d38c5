import { describe, expect, it } from 'vitest';
import { createEvaluator, validateConfiguration } from '../../src/evaluator/index.js';
import { rejection } from './helpers.js';

const flag = (targeting?: unknown) => ({
  state: 'ENABLED',
  variants: { on: true, off: false },
  defaultVariant: 'off',
  ...(targeting === undefined ? {} : { targeting }),
});

/** Evaluators e1…e<count>, each using the previous one twice: e<n> doubles e<n-1>. */
function doubling(count: number): Record<string, unknown> {
  const evaluators: Record<string, unknown> = { e1: { '==': [{ var: 'tier' }, 'gold'] } };
  for (let i = 2; i <= count; i++)
    evaluators[`e${i}`] = { or: [{ $ref: `e${i - 1}` }, { $ref: `e${i - 1}` }] };
  return evaluators;
}

describe('$ref expansion', () => {
  it('refuses a 1 KB chain of evaluators that each use the previous twice, fast, naming the first over the limit', () => {
    const text = JSON.stringify({
      $evaluators: doubling(30),
      flags: { f: flag({ if: [{ $ref: 'e30' }, 'on', 'off'] }) },
    });
    expect(text.length).toBeLessThan(1_500);
    const started = performance.now();
    const error = rejection(() => createEvaluator().setConfiguration(text));
    expect(performance.now() - started).toBeLessThan(1_000);
    // e<n> holds 7 * 2^(n-1) - 2 nodes: e19 is the first over 1,000,000
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: '$evaluators.e19', rule: 'max-nodes' });
    expect(error.message).toMatch(
      /shared evaluator "e19" expands to 1835006 nodes once its \$refs are inlined, over the limit of 1000000/,
    );
    const issues = validateConfiguration(text);
    expect(issues.filter((issue) => issue.severity === 'error')).toEqual([
      expect.objectContaining({ path: '$evaluators.e19', rule: 'max-nodes' }),
    ]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses an evaluator that is never referenced, too', () => {
    const error = rejection(() =>
      createEvaluator().setConfiguration({ $evaluators: doubling(25), flags: { f: flag() } }),
    );
    expect(error.issues[0]?.path).toBe('$evaluators.e19');
  });

  it('takes its node limit from maxRuleNodes', () => {
    const config = { $evaluators: doubling(8), flags: { f: flag({ $ref: 'e8' }) } };
    createEvaluator().setConfiguration(config); // e8: 894 nodes
    const error = rejection(() => createEvaluator({ maxRuleNodes: 500 }).setConfiguration(config));
    expect(error.issues[0]).toMatchObject({ path: '$evaluators.e8', rule: 'max-nodes' });
  });

  it('compiles each shared evaluator once, however many flags and references use it', () => {
    // e17 expands to 458,750 nodes; 200 flags use it: 92 million nodes compiled one by one
    const flags: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) flags[`f${i}`] = flag({ if: [{ $ref: 'e17' }, 'on', 'off'] });
    const evaluator = createEvaluator();
    const started = performance.now();
    evaluator.setConfiguration({ $evaluators: doubling(17), flags });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(evaluator.resolveBoolean('f7', false, { tier: 'gold' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    expect(evaluator.resolveBoolean('f7', true, { tier: 'lead' }).value).toBe(false);
  });

  it('refuses evaluators nested too deep once inlined, and a flag made too deep by one', () => {
    const wrap = (rule: unknown, levels: number) => {
      for (let i = 0; i < levels; i++) rule = { '!!': [rule] };
      return rule;
    };
    // each evaluator is 50 levels (25 operators) deep on its own; three of them are 151
    const evaluators = {
      a: wrap({ var: 'x' }, 25),
      b: wrap({ $ref: 'a' }, 25),
      c: wrap({ $ref: 'b' }, 25),
      d: wrap({ $ref: 'c' }, 25),
    };
    const error = rejection(() =>
      createEvaluator().setConfiguration({ $evaluators: evaluators, flags: { f: flag() } }),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({ path: '$evaluators.c', rule: 'max-depth' }),
    ]);
    const flagError = rejection(() =>
      createEvaluator().setConfiguration({
        $evaluators: { a: evaluators.a, b: evaluators.b },
        flags: { f: flag(wrap({ $ref: 'b' }, 13)) }, // 3 + 26 + 101 levels
      }),
    );
    expect(flagError.issues).toEqual([
      expect.objectContaining({ path: 'flags.f.targeting', rule: 'max-depth' }),
    ]);
    expect(flagError.message).toMatch(/it uses "b"/);
  });

  it('still reports a cycle as the flag’s PARSE_ERROR, as flagd does', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration({
      $evaluators: { a: { or: [{ $ref: 'b' }, { $ref: 'b' }] }, b: { and: [{ $ref: 'a' }] } },
      flags: { f: flag({ $ref: 'a' }), g: flag({ $ref: 'b' }) },
    });
    expect(evaluator.resolveBoolean('f', false)).toMatchObject({
      reason: 'ERROR',
      errorCode: 'PARSE_ERROR',
    });
    expect(evaluator.resolveBoolean('g', false).errorMessage).toMatch(/refers to itself/);
  });
});
