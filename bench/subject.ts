/**
 * The rampflag build under measurement: `dist/`, exactly what users install (run `npm run build`
 * first; `npm run bench` does). Typed from the sources.
 */
import type * as EvaluatorModule from '../src/evaluator/index.js';
import type * as RootModule from '../src/index.js';

const evaluatorUrl = new URL('../dist/evaluator.js', import.meta.url).href;
const rootUrl = new URL('../dist/index.js', import.meta.url).href;
export const { createEvaluator } = (await import(evaluatorUrl)) as typeof EvaluatorModule;
export const { FlagdProvider } = (await import(rootUrl)) as typeof RootModule;
