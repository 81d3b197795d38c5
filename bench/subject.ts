/**
 * The rampflag build under measurement: `dist/`, exactly what users install (run `npm run build`
 * first; `npm run bench` does). Typed from the sources.
 */
import type * as EvaluatorModule from '../src/evaluator/index.js';

const url = new URL('../dist/evaluator.js', import.meta.url).href;
export const { createEvaluator } = (await import(url)) as typeof EvaluatorModule;
