/**
 * The experiment statistics' simulations for the README (src/stats/simulate.ts, seeded):
 *
 * - A/A experiments read every day for 28 days: how often the fixed-horizon z-test declares a
 *   winner at some look, against the always-valid p-value (mSPRT) on the difference of rates and
 *   on the relative lift (target: ≤ α, with the Wilson 95 % upper bound of the simulated rate);
 * - A/B at the planner's n: the empirical power against the power promised (target: ±3 points);
 * - coverage of the 95 % lift intervals (target: 93–97 %).
 *
 * `npx tsx bench/experiment-sim.ts [--smoke] [--seed 1] [--json]` (`npm run bench:experiment`).
 * A full run exits 1 if a target is missed; `--smoke` runs every case briefly and judges nothing.
 */
import {
  simulateLiftCoverage,
  simulateMeansPower,
  simulatePeeking,
  simulateProportionsPower,
  type SimulatedShare,
} from '../src/stats/index.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const smoke = args.includes('--smoke');
const json = args.includes('--json');
const seed = Number(option('--seed') ?? 1);
const SIMULATIONS = smoke ? 200 : 10_000;
const alpha = 0.05;

const started = performance.now();
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const share = (s: SimulatedShare) => `${pct(s.share)} (${pct(s.low)}–${pct(s.high)})`;
const verdict = (met: boolean) => (smoke ? '–' : met ? 'yes' : 'NO');
let missed = false;
const judge = (met: boolean) => {
  if (!met && !smoke) missed = true;
  return verdict(met);
};

// A/A, read daily
const aa = { baseline: 0.03, usersPerDay: 5_000, days: 28 };
/** The analysis' default mixture scale on the relative lift; on the difference, baseline × τ. */
const tauRelative = 0.05;
const peeking = simulatePeeking({ ...aa, tauRelative, simulations: SIMULATIONS, alpha, seed });

// A/B at the planned n
const powerCases = [
  { baseline: 0.03, relativeLift: 0.05, power: 0.8, twoSided: true },
  { baseline: 0.1, relativeLift: 0.1, power: 0.9, twoSided: true },
  { baseline: 0.2, relativeLift: -0.1, power: 0.8, twoSided: true },
  { baseline: 0.05, relativeLift: 0.2, power: 0.8, twoSided: false },
];
const power = powerCases.map((c) => ({
  ...c,
  result: simulateProportionsPower({ ...c, alpha, simulations: SIMULATIONS, seed }),
}));
const meansCase = { sd: 10, difference: 2, power: 0.8 };
const means = simulateMeansPower({ ...meansCase, alpha, simulations: SIMULATIONS, seed });

// coverage of the lift intervals
const coverageCases = [
  { controlRate: 0.1, treatmentRate: 0.12, users: 5_000 },
  { controlRate: 0.03, treatmentRate: 0.0345, users: 20_000 },
  { controlRate: 0.2, treatmentRate: 0.2, users: 2_000 },
];
const coverage = coverageCases.map((c) => ({
  ...c,
  result: simulateLiftCoverage({ ...c, alpha, simulations: SIMULATIONS, seed }),
}));
const seconds = (performance.now() - started) / 1000;

if (json) {
  console.log(JSON.stringify({ seed, simulations: SIMULATIONS, peeking, power, means, coverage }));
} else {
  console.log(
    `Experiment statistics, ${SIMULATIONS.toLocaleString('en')} seeded simulations per case (seed ${seed}), ${smoke ? 'SMOKE run, not judged' : 'full run'}, ${seconds.toFixed(1)} s`,
  );
  console.log(
    `\nA/A: ${pct(aa.baseline)} conversion in both variants, ${aa.usersPerDay.toLocaleString('en')} new users per variant a day, read daily for ${aa.days} days, α = ${alpha}. Share of experiments declared significant at some look (Monte Carlo 95 % interval):`,
  );
  console.log('| test | false-positive rate | target | met |');
  console.log('|---|---:|---|---|');
  console.log(
    `| fixed-horizon z-test, day ${aa.days} only | ${share(peeking.fixedAtEnd)} | ≈ α (reference) | – |`,
  );
  console.log(
    `| fixed-horizon z-test, any daily look | ${share(peeking.fixedAtAnyLook)} | (reported) | – |`,
  );
  for (const [label, s] of [
    [
      `always-valid p (mSPRT), difference of rates, τ = ${(100 * aa.baseline * tauRelative).toFixed(2)} points`,
      peeking.sequentialDifference,
    ],
    [
      `always-valid p (mSPRT), relative lift, τ = ${100 * tauRelative} %`,
      peeking.sequentialRelative,
    ],
  ] as const) {
    console.log(`| ${label} | ${share(s)} | ≤ α, upper bound too | ${judge(s.high <= alpha)} |`);
  }

  console.log(
    `\nA/B at the planner's n (α = ${alpha}): power of the fixed-horizon test, simulated against promised:`,
  );
  console.log('| metric | planned effect | n per variant | promised | simulated | target | met |');
  console.log('|---|---|---:|---:|---:|---|---|');
  for (const { baseline, relativeLift, power: target, twoSided, result } of power) {
    const sign = relativeLift > 0 ? '+' : '−';
    console.log(
      `| conversion, ${pct(baseline)} baseline | ${sign}${Math.abs(100 * relativeLift)} % relative${twoSided ? '' : ', one-sided'} | ${result.n.toLocaleString('en')} | ${pct(target)} | ${share(result.empirical)} | ±3 points | ${judge(Math.abs(result.empirical.share - target) <= 0.03)} |`,
    );
  }
  console.log(
    `| mean (normal, Welch), sd ${meansCase.sd} | +${meansCase.difference} (d = ${meansCase.difference / meansCase.sd}) | ${means.n.toLocaleString('en')} | ${pct(meansCase.power)} | ${share(means.empirical)} | ±3 points | ${judge(Math.abs(means.empirical.share - meansCase.power) <= 0.03)} |`,
  );

  console.log(`\nCoverage of the ${100 * (1 - alpha)} % lift intervals:`);
  console.log(
    '| rates | users per variant | absolute (Wald) | relative (delta method) | target | met |',
  );
  console.log('|---|---:|---:|---:|---|---|');
  for (const { controlRate, treatmentRate, users, result } of coverage) {
    const inside = (s: SimulatedShare) => s.share >= 0.93 && s.share <= 0.97;
    console.log(
      `| ${pct(controlRate)} → ${pct(treatmentRate)} | ${users.toLocaleString('en')} | ${share(result.absolute)} | ${share(result.relative)} | 93–97 % | ${judge(inside(result.absolute) && inside(result.relative))} |`,
    );
  }
}
if (missed) process.exitCode = 1;
