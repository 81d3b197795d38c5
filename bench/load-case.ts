/**
 * The load cases, both sides in this process: `node --import tsx bench/load-case.ts <flags>
 * <repeat>` prints `{"first": {"ours": ms, "peer": ms}, "resend": …, "changed": …}`, each the
 * median of `repeat` runs on fresh state. bench/run.ts runs it in a process of its own, as it does
 * the evaluation cases: a process that has sat idle for minutes (waiting on the other cases) has
 * had its young generation shrunk by V8's memory reducer, and a load's first runs then pay for
 * many small scavenges that a process doing anything else would not (about 35 → 45 ms here).
 */
import { FlagdCore } from '@openfeature/flagd-core';
import { time } from './harness.js';
import { createEvaluator } from './subject.js';
import { generatedFlags } from './workload.js';

const [count, times] = process.argv.slice(2).map(Number) as [number, number];
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const big = generatedFlags(count);
const bigChanged = generatedFlags(count, 1);
const fresh = () => createEvaluator();
const freshPeer = () => new FlagdCore(undefined, silent);
const loaded = () => {
  const evaluator = fresh();
  evaluator.setConfiguration(big);
  return evaluator;
};
const loadedPeer = () => {
  const core = freshPeer();
  core.setConfigurations(big);
  return core;
};
const result = {
  first: {
    ours: time(fresh, (e) => e.setConfiguration(big), times),
    peer: time(freshPeer, (c) => c.setConfigurations(big), times),
  },
  resend: {
    ours: time(loaded, (e) => e.setConfiguration(big), times),
    peer: time(loadedPeer, (c) => c.setConfigurations(big), times),
  },
  changed: {
    ours: time(loaded, (e) => e.setConfiguration(bigChanged), times),
    peer: time(loadedPeer, (c) => c.setConfigurations(bigChanged), times),
  },
};
console.log(JSON.stringify(result));
