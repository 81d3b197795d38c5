/**
 * The rollout simulation's figures for the README: the real decision code (src/rollout/decide.ts)
 * on synthetic traffic in virtual time, A/A and with a 2× error regression (0.5 % → 1 %), against
 * the naive rule `error rate > 1 % → roll back` checked at every look; then how the A/A
 * false-rollback rate moves as per-user heterogeneity grows (requests of one user are correlated,
 * the confidence sequence's variance counts requests as independent); then a chart of one rollout
 * that rolls back, written to docs/rollout-simulation.svg.
 *
 * `npx tsx bench/simulate.ts [--smoke] [--rollouts 1000] [--seed 1] [--plan plan.yaml]
 *  [--svg docs/rollout-simulation.svg] [--json]`
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePlan, type RolloutPlan } from '../src/rollout/plan.js';
import { renderRolloutChart } from '../src/rollout/simulate-chart.js';
import {
  formatSimulation,
  simulateRollout,
  simulateRollouts,
  simulateScenario,
  type SimulationOptions,
} from '../src/rollout/simulate.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const smoke = args.includes('--smoke');
const json = args.includes('--json');
const rollouts = Number(option('--rollouts') ?? (smoke ? 50 : 1000));
const seed = Number(option('--seed') ?? 1);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const svgPath = resolve(root, option('--svg') ?? 'docs/rollout-simulation.svg');

/** ROLLOUT.md's example plan, with its error guardrail (the others read PromQL). */
const DEFAULT_PLAN = {
  flag: 'checkout.payments.express-pay',
  treatment: 'on',
  control: 'off',
  steps: [1, 5, 25, 50, 100],
  hold: '10m',
  minSamples: 1000,
  checkEvery: '30s',
  stepTimeout: '2h',
  onTimeout: 'hold',
  alpha: 0.05,
  guardrails: [{ name: 'errors', metric: 'error-rate', maxIncrease: 0.002, maxRate: 0.01 }],
};
const planFile = option('--plan');
const plan: RolloutPlan = parsePlan(planFile ? readFileSync(planFile, 'utf8') : DEFAULT_PLAN);
const options: SimulationOptions = {
  rollouts,
  seed,
  ...(!json && {
    onProgress: (done: number, total: number) => {
      if (done % 100 === 0 || done === total) process.stderr.write(`\r${done}/${total} rollouts`);
    },
  }),
};

const started = performance.now();
const summary = simulateRollouts(plan, options);
process.stderr.write('\n');

/**
 * Over-dispersion: A/A false rollbacks as users grow more unlike one another (Gamma frailty of
 * shape k: variance 1/k) on a cheap model of many requests per visit, for the plan as written and
 * for the strictest reading of it (any worsening is harm).
 */
function sensitivity() {
  const n = smoke ? 40 : Math.max(200, Math.round(rollouts / 2));
  const strict = {
    ...plan,
    guardrails: plan.guardrails.map((g) => ({ ...g, maxWorsening: 0 })),
  };
  const rows = [Infinity, 1, 0.2, 0.05].map((heterogeneity) => {
    const traffic = { users: 5000, visitsPerSecond: 5, requestsPerVisit: 40, heterogeneity };
    const cell = (p: RolloutPlan) =>
      simulateScenario(p, { seed, rollouts: n, traffic }, 'sequential', 1);
    return { heterogeneity, asWritten: cell(plan).rolledBack, strict: cell(strict).rolledBack };
  });
  return { rollouts: n, rows };
}
const spread = sensitivity();

// the chart: the first rollout (by index) that the sequential rule rolls back under the regression
let chartIndex = 0;
let run = simulateRollout(plan, options, 'sequential', summary.settings.regression, chartIndex);
while (run.outcome !== 'rolled-back' && chartIndex < 50)
  run = simulateRollout(plan, options, 'sequential', summary.settings.regression, ++chartIndex);
const guardrail = plan.guardrails[0];
const base = summary.settings.traffic.baseline;
const stepAt = run.trace.at(-1)?.percent ?? 0;
const svg = renderRolloutChart(run, {
  title: `A ${summary.settings.regression}× error regression (${(base * 100).toFixed(1)} % → ${(base * summary.settings.regression * 100).toFixed(1)} %), caught at the ${stepAt} % step (simulated rollout #${chartIndex}, seed ${seed})`,
  maxIncrease: guardrail?.maxWorsening ?? 0,
  guardrail: guardrail?.name ?? 'errors',
});
mkdirSync(dirname(svgPath), { recursive: true });
writeFileSync(svgPath, svg);

const pct = (rate: number) => `${(rate * 100).toFixed(1)} %`;
if (json) {
  const { plan: _plan, ...rest } = summary;
  console.log(
    JSON.stringify(
      { ...rest, sensitivity: spread, chart: { index: chartIndex, svgPath } },
      null,
      2,
    ),
  );
} else {
  console.log(formatSimulation(summary));
  console.log(
    `\nA/A false rollbacks as users differ more (per-user error-rate frailty Gamma(k), variance 1/k; 5 visits/s × 40 requests from 5,000 users; ${spread.rollouts} rollouts per cell):\n`,
  );
  console.log('| Frailty k | As written | Any worsening is harm (maxIncrease 0) |');
  console.log('|---|---|---|');
  for (const row of spread.rows)
    console.log(
      `| ${Number.isFinite(row.heterogeneity) ? row.heterogeneity : '∞ (users alike)'} | ${pct(row.asWritten.rate)} [${pct(row.asWritten.lower)}, ${pct(row.asWritten.upper)}] | ${pct(row.strict.rate)} [${pct(row.strict.lower)}, ${pct(row.strict.upper)}] |`,
    );
  console.log(
    `\nChart: ${svgPath} (rollout #${chartIndex}: ${run.reason}). ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
}
