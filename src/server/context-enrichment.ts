import type { IncomingHttpHeaders } from 'node:http';
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

/** Request headers, as Node's HTTP/1.1 and HTTP/2 servers give them (names in lower case). */
export type RequestHeaders = IncomingHttpHeaders | Readonly<Record<string, unknown>>;

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
      const raw = headers[header];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (typeof value === 'string') Object.defineProperty(merged, key, ownValue(value));
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
