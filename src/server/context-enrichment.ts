import type { EvaluationContext } from '@openfeature/core';

/**
 * What the server adds to every evaluation's context, as flagd does:
 * - `values`: static context (flagd's `-X/--context-value`), also sent to in-process providers as
 *   the sync context;
 * - `fromHeaders`: request headers copied into the context, header name → context key (flagd's
 *   `-H/--context-from-header`).
 */
export interface ContextEnrichment {
  readonly values?: EvaluationContext;
  readonly fromHeaders?: Readonly<Record<string, string>>;
}

/**
 * A request's headers as sent: names and values in turn (`rawHeaders` of Node's HTTP/1.1 and
 * HTTP/2 requests). The raw list keeps a repeated header's values apart, where Node's header
 * object joins them with commas.
 */
export type RequestHeaders = readonly string[];

/** The first value of header `name` (lower case) in raw headers, or `undefined`. */
function firstValue(raw: RequestHeaders, name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() === name) return raw[i + 1];
  return undefined;
}

/**
 * A function that merges a request's context with what the server adds, by flagd's priority
 * (highest first): a mapped header, a static value, the request's own context. A header sent
 * twice gives its first value; an absent one adds nothing. Without enrichment the request's
 * context is returned as it is. Keys like `__proto__` stay own properties (spread defines them).
 */
export function contextEnricher(
  enrichment: ContextEnrichment = {},
): (context: EvaluationContext, headers: RequestHeaders) => EvaluationContext {
  const values = enrichment.values ?? {};
  const mappings = Object.entries(enrichment.fromHeaders ?? {}).map(
    ([header, key]) => [header.toLowerCase(), key] as const,
  );
  const hasValues = Object.keys(values).length > 0;
  if (!hasValues && mappings.length === 0) return (context) => context;
  return (context, headers) => {
    const merged: EvaluationContext = hasValues ? { ...context, ...values } : { ...context };
    for (const [header, key] of mappings) {
      const value = firstValue(headers, header);
      if (value !== undefined) Object.defineProperty(merged, key, ownValue(value));
    }
    return merged;
  };
}

const ownValue = (value: string): PropertyDescriptor => ({
  value,
  enumerable: true,
  writable: true,
  configurable: true,
});
