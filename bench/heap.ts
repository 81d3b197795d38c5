/**
 * Heap retained by one evaluator holding the generated flags, measured alone in this process:
 * `node --expose-gc --import tsx bench/heap.ts <rampflag|flagd-core> <count>` prints MiB.
 * Run by bench/run.ts in a child process per side, so neither side's garbage skews the other.
 */
import { FlagdCore } from '@openfeature/flagd-core';
import { createEvaluator } from './subject.js';
import { generatedFlags } from './workload.js';

const [side, count] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const heap = () => {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
};
// Load once and drop it, so code and caches that any load creates are in the baseline.
const warm = side === 'flagd-core' ? new FlagdCore(undefined, silent) : createEvaluator();
if (warm instanceof FlagdCore) warm.setConfigurations(generatedFlags(50));
else warm.setConfiguration(generatedFlags(50));
const before = heap();
// The text is made inside the measured region and dropped after loading: what a side keeps of it
// (rampflag keeps it to recognise an identical re-send) counts against that side.
let text = generatedFlags(Number(count));
let kept: unknown;
if (side === 'flagd-core') {
  const core = new FlagdCore(undefined, silent);
  core.setConfigurations(text);
  kept = core;
} else {
  const evaluator = createEvaluator();
  evaluator.setConfiguration(text);
  kept = evaluator;
}
text = '';
const after = heap();
console.log(((after - before) / 2 ** 20).toFixed(2), kept === undefined ? '' : '');
