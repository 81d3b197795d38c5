import { createEvaluator } from '../dist/evaluator.js';
const { generatedFlags } = await import('./.workload.mjs');
const big = generatedFlags(10000);
const out=[];
for (let r=0;r<8;r++){ const e = createEvaluator(); const t=process.hrtime.bigint(); e.setConfiguration(big); out.push((Number(process.hrtime.bigint()-t)/1e6).toFixed(0)); }
console.log(out.join(' '));
