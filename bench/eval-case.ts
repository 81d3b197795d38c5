/**
 * One evaluation case, both sides in this process: `node --import tsx bench/eval-case.ts <case>
 * <iterations>` prints `{"ours": ns, "peer": ns}`. bench/run.ts runs each case in a process of
 * its own, so no case's JIT state (polymorphic call sites, deoptimisations) skews another; the two
 * sides alternate three times and each keeps its median.
 */
import { FlagdCore } from '@openfeature/flagd-core';
import { measure } from './harness.js';
import { createEvaluator } from './subject.js';
import { BENCH_FLAGS, compoundUsers, users } from './workload.js';

const [name, iterations] = process.argv.slice(2);
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const text = JSON.stringify(BENCH_FLAGS);
const evaluator = createEvaluator();
evaluator.setConfiguration(text);
const core = new FlagdCore(undefined, silent);
core.setConfigurations(text);
const population = users(10_000);
const user = (i: number) => population[i % population.length] as (typeof population)[number];
const audience = compoundUsers(10_000);
const member = (i: number) => audience[i % audience.length] as (typeof audience)[number];

const cases: Record<string, [(i: number) => unknown, (i: number) => unknown]> = {
  static: [
    () => evaluator.resolveBoolean('static-bool', false, {}).value,
    () => core.resolveBooleanEvaluation('static-bool', false, {}, silent).value,
  ],
  ring: [
    (i) => evaluator.resolveBoolean('ring', false, user(i)).value,
    (i) => core.resolveBooleanEvaluation('ring', false, user(i), silent).value,
  ],
  fractional: [
    (i) => evaluator.resolveString('four-way', '', user(i)).value,
    (i) => core.resolveStringEvaluation('four-way', '', user(i), silent).value,
  ],
  compound: [
    (i) => evaluator.resolveString('compound', '', member(i)).value,
    (i) => core.resolveStringEvaluation('compound', '', member(i), silent).value,
  ],
  semver: [
    (i) => evaluator.resolveString('semver', '', user(i)).value,
    (i) => core.resolveStringEvaluation('semver', '', user(i), silent).value,
  ],
};

const pair = cases[name as string];
if (pair === undefined)
  throw new Error(`unknown case ${name}; one of ${Object.keys(cases).join(', ')}`);
const ours: number[] = [];
const peer: number[] = [];
for (let round = 0; round < 3; round++) {
  ours.push(measure(pair[0], Number(iterations)).nsPerOp);
  peer.push(measure(pair[1], Number(iterations)).nsPerOp);
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[1] as number;
console.log(JSON.stringify({ ours: median(ours), peer: median(peer) }));
