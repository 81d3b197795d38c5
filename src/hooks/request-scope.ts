import { AsyncLocalStorage } from 'node:async_hooks';
import type { EvaluationContext } from '@openfeature/core';
import {
  context,
  createContextKey,
  propagation,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';

/** What one request has evaluated, and the span that stands for the whole request. */
export interface FlagScope {
  /** The request's server span: variants are written to it as well as to the active span. */
  readonly span: Span | undefined;
  /** Flag key → variant, every flag evaluated while the request was open. */
  readonly variants: Map<string, string>;
  /** Flag key → the evaluation context it was evaluated with (the outcome recorder's cohort). */
  readonly contexts: Map<string, EvaluationContext>;
}

const SCOPE = createContextKey('rampflag.flag-scope');
const PROBE = createContextKey('rampflag.context-probe');

/**
 * Where scopes live when no OpenTelemetry context manager is registered (the API's default one
 * propagates nothing, so a scope set through it would be lost at once and nothing recorded).
 */
const fallback = new AsyncLocalStorage<FlagScope>();

/** Whether the registered OpenTelemetry context manager carries values into `fn`. */
function contextPropagates(): boolean {
  return context.with(
    context.active().setValue(PROBE, true),
    () => context.active().getValue(PROBE) === true,
  );
}

/** The scope of the request being served, if a helper opened one. */
export function currentFlagScope(ctx: Context = context.active()): FlagScope | undefined {
  return (ctx.getValue(SCOPE) as FlagScope | undefined) ?? fallback.getStore();
}

/**
 * Runs `fn` in a flag scope whose span is `span` (by default the span active now, usually the
 * request's server span). Every variant evaluated inside, however deep the child spans, is also
 * written to that span. Without an OpenTelemetry context manager the scope is carried by Node's
 * `AsyncLocalStorage` instead, so variants are still recorded.
 */
export function runInFlagScope<T>(fn: () => T, span: Span | undefined = trace.getActiveSpan()): T {
  const scope: FlagScope = { span, variants: new Map(), contexts: new Map() };
  if (contextPropagates()) return context.with(context.active().setValue(SCOPE, scope), fn);
  return fallback.run(scope, fn);
}

/**
 * Wraps a `node:http`-style request handler so the request's span carries every variant evaluated
 * while it is handled.
 *
 * @example
 * http.createServer(withFlagVariants(async (req, res) => { … }));
 */
export function withFlagVariants<A extends unknown[], R>(
  handler: (...args: A) => R,
): (...args: A) => R {
  return (...args: A) => runInFlagScope(() => handler(...args));
}

/**
 * The same for Connect/Express-style middleware: `app.use(flagVariantsMiddleware())`. Register it
 * after the OpenTelemetry HTTP instrumentation has started the request span.
 */
export function flagVariantsMiddleware(): (req: unknown, res: unknown, next: () => void) => void {
  return (_req, _res, next) => runInFlagScope(next);
}

/**
 * Runs `fn` with the request's variants in W3C baggage (`feature_flag.variant.<key>` entries), so
 * calls made inside carry them to downstream services.
 */
export function withVariantBaggage<T>(fn: () => T, prefix = 'feature_flag.variant.'): T {
  const scope = currentFlagScope();
  if (scope === undefined || scope.variants.size === 0) return fn();
  let baggage = propagation.getActiveBaggage() ?? propagation.createBaggage();
  for (const [key, variant] of scope.variants)
    baggage = baggage.setEntry(`${prefix}${key}`, { value: variant });
  return context.with(propagation.setBaggage(context.active(), baggage), fn);
}
