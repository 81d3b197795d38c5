/**
 * `npm run demo`: loads examples/flags.json into the in-process evaluator and shows, for 100,000
 * generated users, how each flag splits them, and where a few named users land and why. Then the
 * embedded server serves the file to two services, and a live edit reaches both.
 * `--json` prints the same facts for programs (the example test reads it).
 */
import { readFileSync } from 'node:fs';
import { createEvaluator, type EvaluationResult } from 'rampflag/evaluator';
import { runLiveDemo } from './demo-live.js';

const POPULATION = 100_000;
const json = process.argv.includes('--json');
const flagsPath = new URL('./flags.json', import.meta.url);

const evaluator = createEvaluator();
const { added } = evaluator.setConfiguration(readFileSync(flagsPath, 'utf8'));

/** The i-th generated user: rings, plans, app versions and e-mail domains in fixed proportions. */
function user(i: number): Record<string, string> {
  return {
    targetingKey: `user-${i}`,
    ring: i % 100 === 0 ? 'beta' : 'public',
    plan: i % 5 === 0 ? 'premium' : 'basic',
    appVersion: `${2 + (i % 3)}.${i % 4}.${i % 10}`,
    email: i % 50 === 0 ? `u${i}@rampflag.dev` : `u${i}@example.com`,
  };
}

/** The typed resolver that matches a flag's variant values. */
function resolverFor(key: string): (context: object) => EvaluationResult<unknown> {
  const sample = Object.values(evaluator.explain(key).variants ?? {})[0];
  if (typeof sample === 'boolean')
    return (context) => evaluator.resolveBoolean(key, false, context);
  if (typeof sample === 'number') return (context) => evaluator.resolveNumber(key, 0, context);
  return (context) => evaluator.resolveString(key, '', context);
}

const splits: Record<string, Record<string, number>> = {};
for (const key of added) {
  const resolve = resolverFor(key);
  const counts: Record<string, number> = {};
  for (let i = 0; i < POPULATION; i++) {
    const { variant, reason } = resolve(user(i));
    const label = variant ?? `(${reason.toLowerCase()})`;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  splits[key] = counts;
}

const named = ['alice', 'bob', 'carol', 'dave', 'erin'].map((name) => {
  const context = { targetingKey: name, ring: name === 'erin' ? 'internal' : 'public' };
  const explanation = evaluator.explain('new-checkout', context);
  const [decision] = explanation.fractional;
  return {
    name,
    ring: context.ring,
    variant: explanation.result.variant,
    reason: explanation.result.reason,
    hash: decision?.hash,
    bucket: decision?.bucket,
    totalWeight: decision?.totalWeight,
  };
});

const live = await runLiveDemo();

if (json) {
  console.log(JSON.stringify({ population: POPULATION, splits, named, live }, null, 2));
} else {
  console.log(
    `rampflag demo: ${added.length} flags from examples/flags.json (flag set "${String(evaluator.metadata['flagSetId'])}"), ${POPULATION.toLocaleString('en')} generated users\n`,
  );
  for (const [key, counts] of Object.entries(splits)) {
    const parts = Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([variant, n]) => `${variant} ${((100 * n) / POPULATION).toFixed(2)}%`);
    console.log(`  ${key.padEnd(16)} ${parts.join('  ')}`);
  }
  console.log(
    '\nnew-checkout for named users (sticky: the same user always lands in the same bucket):',
  );
  for (const n of named) {
    const where =
      n.bucket === undefined
        ? `ring "${n.ring}" matched before any bucketing`
        : `murmur3("${n.name}") = ${n.hash}, bucket ${n.bucket} of ${n.totalWeight}`;
    console.log(`  ${n.name.padEnd(6)} → ${String(n.variant).padEnd(4)} (${n.reason}; ${where})`);
  }
  console.log(
    '\nlive: rampflag serve (embedded) serves the file; an operator ramps new-checkout to 100 %:',
  );
  for (const s of live.services) {
    console.log(
      `  ${s.name.padEnd(16)} (${s.transport.padEnd(9)}) changed [${s.changed.join(', ')}] after ${s.ms.toFixed(0)} ms: alice ${s.before} → ${s.after}`,
    );
  }
}
