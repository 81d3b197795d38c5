/**
 * The rampflag build under measurement: `dist/`, exactly what users install (run `npm run build`
 * first; `npm run bench` does). Typed from the sources.
 */
import type * as EvaluatorModule from '../src/evaluator/index.js';
import type * as RootModule from '../src/index.js';
import type * as OtelModule from '../src/hooks/index.js';
import type * as ServerModule from '../src/server/index.js';

const evaluatorUrl = new URL('../dist/evaluator.js', import.meta.url).href;
const rootUrl = new URL('../dist/index.js', import.meta.url).href;
export const { createEvaluator } = (await import(evaluatorUrl)) as typeof EvaluatorModule;
export const { FlagdProvider, InMemoryFlagSource, SseFlagSource } = (await import(
  rootUrl
)) as typeof RootModule;
const serverUrl = new URL('../dist/server.js', import.meta.url).href;
export const { FlagServer } = (await import(serverUrl)) as typeof ServerModule;
const otelUrl = new URL('../dist/otel.js', import.meta.url).href;
export const { createSpanHook } = (await import(otelUrl)) as typeof OtelModule;
