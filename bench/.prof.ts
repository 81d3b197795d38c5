import { createEvaluator } from '../src/evaluator/index.ts';
import { BENCH_FLAGS, users } from './workload.ts';
const e = createEvaluator(); e.setConfiguration(JSON.stringify(BENCH_FLAGS));
const u = users(10000);
let s=0; for (let i=0;i<5_000_000;i++) if (e.resolveBoolean('ring',false,u[i%10000]).value) s++;
console.log(s);
