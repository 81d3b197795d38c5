import { writeHeapSnapshot } from 'node:v8';
import { createEvaluator } from '../dist/evaluator.js';
const { generatedFlags } = await import('./.workload.mjs');
const e = createEvaluator(); e.setConfiguration(generatedFlags(10000)); globalThis.keep = e;
writeHeapSnapshot('/tmp/h2.heapsnapshot');
