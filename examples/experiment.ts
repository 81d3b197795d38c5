/**
 * `npm run demo:experiment`: a checkout A/B experiment, tracked and analysed, in a few seconds.
 *
 * The `checkout-flow` flag splits users 50/50 between the `classic` checkout and a `one-page` one;
 * its metadata says `experiment: true`. A service evaluates it in process (FlagdProvider over an
 * InMemoryFlagSource, with a tracking recorder) and reports purchases with the OpenFeature
 * Tracking API, `client.track('purchase', context, { value })`. Simulated traffic (seeded, so every
 * run is the same) buys 10 % of the time on the classic checkout and 11.5 % on the one-page one: a
 * real 15 % lift. Each simulated day the recorder's totals are kept, and at the end the experiment
 * is analysed: per metric and variant the rate or mean, the lifts, the fixed-horizon and the
 * anytime-valid test, Holm, SRM, a verdict each.
 *
 * `--json` prints the counts and the analysis for programs (the example's test reads it);
 * `--chart <file.svg>` writes the relative lift over time.
 */
import { writeFileSync } from 'node:fs';
import { OpenFeature } from '@openfeature/server-sdk';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import {
  analyzeExperiment,
  createTrackingRecorder,
  expectedSharesOf,
  experimentChart,
  fromRecorder,
  planExperiment,
  type ExperimentData,
  type SeriesPoint,
} from 'rampflag/experiment';

const json = process.argv.includes('--json');
const chartAt = process.argv.indexOf('--chart');
const chartPath = chartAt > 0 ? process.argv[chartAt + 1] : undefined;
const say = (line = '') => {
  if (!json) console.log(line);
};
const started = Date.now();

/** mulberry32: a seeded uniform generator, so the simulated traffic is the same every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The experiment flag: a 50/50 split, marked as an experiment in its metadata.
const FLAG = 'checkout-flow';
const flag = {
  variants: { classic: 'classic', 'one-page': 'one-page' },
  defaultVariant: 'classic',
  targeting: {
    fractional: [
      ['classic', 50],
      ['one-page', 50],
    ],
  },
  metadata: { experiment: true },
};
const tracking = createTrackingRecorder();
await OpenFeature.setProviderAndWait(
  new FlagdProvider({ source: new InMemoryFlagSource({ [FLAG]: flag }), tracking }),
);
const client = OpenFeature.getClient('checkout-service');

// What the experiment was planned for: a 10 % lift on a 10 % purchase rate.
const USERS_PER_DAY = 3_000;
const DAYS = 14;
const plan = planExperiment({ baseline: 0.1, relativeLift: 0.1, usersPerDay: USERS_PER_DAY });
const TAU = plan.sequential?.tau ?? 0.1;

/** The truth the analysis should find: the one-page checkout sells 15 % more often. */
const PURCHASE_RATE: Record<string, number> = { classic: 0.1, 'one-page': 0.115 };
const random = seeded(13);

/** One user's visit: the checkout they get, and maybe a purchase (tracked with its value). */
async function visit(userId: string): Promise<void> {
  const context = { targetingKey: userId };
  const checkout = await client.getStringValue(FLAG, 'classic', context);
  if (random() < (PURCHASE_RATE[checkout] ?? 0)) {
    const value = Math.round(-Math.log(1 - random()) * 60 * 100) / 100; // about 60 on average
    client.track('purchase', context, { value });
  }
}

say(`rampflag experiment demo: ${FLAG}, classic vs one-page, 50/50, ${USERS_PER_DAY} users a day`);
say(
  `planned: ${plan.perVariant.toLocaleString('en-US')} users per variant to detect a 10 % lift at 80 % power (fixed horizon), ${plan.sequential?.perVariant.toLocaleString('en-US')} anytime-valid; τ = ${TAU}`,
);
const series: SeriesPoint[] = [];
const day0 = Date.UTC(2026, 2, 2);
for (let day = 0; day < DAYS; day++) {
  for (let i = 0; i < USERS_PER_DAY; i++) await visit(`user-${day}-${i}`);
  const totals = fromRecorder(tracking, FLAG, { control: 'classic' });
  series.push({
    time: new Date(day0 + (day + 1) * 86_400_000).toISOString(),
    metrics: totals.metrics,
  });
}

// The analysis, as `rampflag experiment analyze` would print it from the same counts.
const shares = expectedSharesOf(flag); // { classic: 50, 'one-page': 50 }: the SRM check's expected split
const data: ExperimentData = {
  ...fromRecorder(tracking, FLAG, {
    control: 'classic',
    ...(shares === undefined ? {} : { expectedShares: shares }),
  }),
  series,
};
const analysis = analyzeExperiment(data, { tau: TAU });
const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
say();
say(
  `after ${DAYS} days (${Object.values(data.assignment ?? {})
    .reduce((a, n) => a + n, 0)
    .toLocaleString('en-US')} users):`,
);
for (const metric of analysis.metrics) {
  say(
    `  ${metric.metric} (${metric.kind === 'conversion' ? 'conversion rate' : 'mean per user'}):`,
  );
  for (const v of metric.variants) {
    const value =
      v.value === undefined
        ? 'n/a'
        : metric.kind === 'conversion'
          ? pct(v.value.estimate)
          : v.value.estimate.toFixed(2);
    say(
      `    ${v.variant.padEnd(9)} users ${v.users}  conversions ${v.conversions}  ${metric.kind === 'conversion' ? 'rate' : 'mean'} ${value}`,
    );
  }
}
say(
  `  SRM: χ² = ${analysis.srm.statistic.toFixed(2)}, p = ${analysis.srm.pValue.toFixed(2)}${analysis.srm.mismatch ? ' MISMATCH' : ''}`,
);
say();
say('verdicts:');
for (const c of analysis.comparisons) say(`  ${c.verdict}`);
if (analysis.warnings.length > 0) {
  say('warnings:');
  for (const w of analysis.warnings) say(`  ! ${w}`);
}
if (chartPath !== undefined) {
  writeFileSync(chartPath, experimentChart(analysis, { metric: 'purchase' }));
  say(`chart of the lift over time: ${chartPath}`);
}
if (json)
  console.log(
    JSON.stringify({
      tau: TAU,
      data: { ...data, series: undefined },
      verdicts: analysis.comparisons.map((c) => c.verdict),
      outcomes: analysis.comparisons.map((c) => ({
        metric: c.metric,
        variant: c.treatment.variant,
        outcome: c.outcome,
      })),
      srm: analysis.srm,
      timeline: analysis.timeline.length,
      seconds: (Date.now() - started) / 1000,
    }),
  );
await OpenFeature.close();
