import { describe, expect, it } from 'vitest';

const stubbed =
  (globalThis as { __rampflagNoDynamicCode?: boolean }).__rampflagNoDynamicCode === true;

// Runs in the no-eval project only: proves its setup is in force for the suites beside it.
describe.runIf(stubbed)('the no-eval project', () => {
  it('has eval and Function replaced by throwing stubs', () => {
    expect(() => globalThis.eval('1')).toThrow(EvalError);
    expect(() => new Function('return 1')).toThrow(EvalError);
    expect(() => Function('return 1')).toThrow(EvalError);
  });
});
