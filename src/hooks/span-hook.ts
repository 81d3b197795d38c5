import type { BaseHook, EvaluationDetails, FlagValue, HookContext } from '@openfeature/core';
import { trace } from '@opentelemetry/api';
import { evaluationAttributes, type ValueOptions } from './attributes.js';
import { currentFlagScope } from './request-scope.js';

/** Options of {@link createSpanHook}. */
export interface SpanHookOptions extends ValueOptions {
  /** The span attribute that carries a flag's variant. Default `feature_flag.variant.<flagKey>`. */
  readonly variantAttribute?: (flagKey: string) => string;
}

const EVENT = 'feature_flag.evaluation';

/** An OpenFeature hook whose stages return nothing: what both SDKs' `addHooks` take. */
export type FlagHook = BaseHook<FlagValue, Record<string, unknown>, void, void>;

/**
 * An OpenFeature hook that tags the active span with each evaluation: a `feature_flag.evaluation`
 * event with the semantic-convention attributes, and a queryable `feature_flag.variant.<flagKey>`
 * attribute. Inside a flag scope ({@link withFlagVariants}) the request's server span gets the
 * variant too. With no active span, or no OpenTelemetry SDK, it returns at once. It never throws.
 *
 * @example
 * OpenFeature.addHooks(createSpanHook());
 */
export function createSpanHook(options: SpanHookOptions = {}): FlagHook {
  const attributeOf = options.variantAttribute ?? ((key: string) => `feature_flag.variant.${key}`);
  return {
    finally(hook: Readonly<HookContext>, details: EvaluationDetails<FlagValue>) {
      try {
        const span = trace.getActiveSpan();
        const scope = currentFlagScope();
        if ((span === undefined || !span.isRecording()) && scope === undefined) return;
        const variant = details.variant;
        if (span !== undefined && span.isRecording()) {
          span.addEvent(EVENT, evaluationAttributes(hook, details, options));
          if (variant !== undefined) span.setAttribute(attributeOf(hook.flagKey), variant);
        }
        if (scope !== undefined && variant !== undefined) {
          scope.variants.set(hook.flagKey, variant);
          scope.contexts.set(hook.flagKey, hook.context);
          if (scope.span !== span && scope.span?.isRecording() === true) {
            scope.span.setAttribute(attributeOf(hook.flagKey), variant);
          }
        }
      } catch (error) {
        hook.logger.warn(`rampflag span hook: ${(error as Error).message}`);
      }
    },
  };
}
