import {
  createEvaluator,
  isInvalidConfigurationError,
  type Evaluator,
  type EvaluatorOptions,
  type InvalidConfigurationError,
} from '../../src/evaluator/index.js';

/** The InvalidConfigurationError `run` throws; fails the test if it throws nothing or another error. */
export function rejection(run: () => unknown): InvalidConfigurationError {
  try {
    run();
  } catch (error) {
    if (isInvalidConfigurationError(error)) return error;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

/** An evaluator holding one string flag `f` with the given targeting, default variant `fallback`. */
export function withRule(
  targeting: unknown,
  variants: Record<string, unknown> = {},
  options: EvaluatorOptions = {},
): Evaluator {
  const evaluator = createEvaluator(options);
  evaluator.setConfiguration({
    flags: {
      f: {
        state: 'ENABLED',
        variants: { fallback: 'fallback', yes: 'yes', no: 'no', ...variants },
        defaultVariant: 'fallback',
        targeting,
      },
    },
  });
  return evaluator;
}

/** The raw value a rule evaluates to, read back through the variant it names. */
export function outcome(targeting: unknown, context: object = {}): unknown {
  const result = withRule(targeting).resolveString('f', 'code-default', context);
  return result.reason === 'DEFAULT' ? null : result.value;
}
