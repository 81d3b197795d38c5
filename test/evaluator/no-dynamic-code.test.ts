import { describe, expect, it } from 'vitest';
import { createEvaluator } from '../../src/evaluator/index.js';

// vitest.config.ts sets this in the no-eval project only, whose workers run under
// --disallow-code-generation-from-strings.
const noEvalProject = process.env['RAMPFLAG_NO_DYNAMIC_CODE'] === '1';

describe.runIf(noEvalProject)('the no-eval project', () => {
  it('runs where V8 refuses to generate code from strings, by every route', () => {
    expect(process.execArgv).toContain('--disallow-code-generation-from-strings');
    // Reached without the global names a stub could replace: only the V8 flag stops these.
    const FunctionConstructor = (() => 0).constructor as FunctionConstructor;
    expect(() => FunctionConstructor('return 1')).toThrow(EvalError);
    const AsyncFunction = (async () => 0).constructor as FunctionConstructor;
    expect(() => AsyncFunction('return 1')).toThrow(EvalError);
    const indirectEval = Reflect.get(globalThis, 'eval') as (code: string) => unknown;
    expect(() => indirectEval('1')).toThrow(EvalError);
  });

  it('loads and evaluates a configuration there', () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration({
      $evaluators: { gold: { in: [{ var: 'tier' }, ['gold', 'platinum']] } },
      flags: {
        f: {
          state: 'ENABLED',
          variants: { on: true, off: false },
          defaultVariant: 'off',
          targeting: {
            if: [
              { $ref: 'gold' },
              'on',
              {
                fractional: [
                  ['on', 1],
                  ['off', 1],
                ],
              },
            ],
          },
        },
      },
    });
    expect(evaluator.resolveBoolean('f', false, { tier: 'gold' }).value).toBe(true);
  });
});
