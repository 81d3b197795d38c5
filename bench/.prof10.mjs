import { createEvaluator } from '../dist/evaluator.js';
const { generatedFlags } = await import('./.workload.mjs');
const big = generatedFlags(10000);
gc(); gc(); const before = process.memoryUsage().heapUsed;
const e = createEvaluator(); e.setConfiguration(big);
gc(); gc(); console.log('retained MiB', ((process.memoryUsage().heapUsed - before) / 2**20).toFixed(1));
const out=[];
for (let r=0;r<8;r++){ const x = createEvaluator(); const t=process.hrtime.bigint(); x.setConfiguration(big); out.push((Number(process.hrtime.bigint()-t)/1e6).toFixed(0)); }
console.log('load ms', out.join(' '));
