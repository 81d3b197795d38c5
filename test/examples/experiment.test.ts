import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { analyzeExperiment, type ExperimentData, type SrmCheck } from 'rampflag/experiment';

interface ExperimentDemoOutput {
  tau: number;
  data: ExperimentData;
  verdicts: string[];
  outcomes: { metric: string; variant: string; outcome: string }[];
  srm: SrmCheck;
  timeline: number;
  seconds: number;
}

const run = (...args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'examples/experiment.ts', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('examples/experiment.ts', () => {
  it('finds the real lift in the tracked counts, as analyzeExperiment does on the same counts', () => {
    const output = JSON.parse(run('--json')) as ExperimentDemoOutput;
    expect(output.seconds).toBeLessThan(10);
    const analysis = analyzeExperiment(output.data, { tau: output.tau });
    expect(output.verdicts).toEqual(analysis.comparisons.map((c) => c.verdict));
    expect(output.data.assignment).toEqual(
      Object.fromEntries(output.data.metrics[0]?.variants.map((v) => [v.variant, v.users]) ?? []),
    );
    expect(output.data.expectedShares).toEqual({ classic: 50, 'one-page': 50 });
    expect(output.srm.mismatch).toBe(false);
    expect(output.timeline).toBe(14);
    // the one-page checkout sells 15 % more often: the anytime-valid test finds it
    expect(output.outcomes[0]).toEqual({
      metric: 'purchase',
      variant: 'one-page',
      outcome: 'better',
    });
    const purchase = analysis.comparisons[0];
    expect(purchase?.sequential?.relative.low).toBeLessThan(0.15);
    expect(purchase?.sequential?.relative.high).toBeGreaterThan(0.15);
  }, 40_000);

  it('prints the counts and the verdicts of that analysis for people', () => {
    const text = run();
    const output = JSON.parse(run('--json')) as ExperimentDemoOutput;
    const analysis = analyzeExperiment(output.data, { tau: output.tau });
    const lines = text.split('\n');
    for (const metric of output.data.metrics)
      for (const v of metric.variants)
        expect(lines).toContainEqual(
          expect.stringMatching(
            new RegExp(`^ {4}${v.variant} +users ${v.users} {2}conversions ${v.conversions} `),
          ),
        );
    const verdicts = lines.slice(
      lines.indexOf('verdicts:') + 1,
      lines.indexOf('verdicts:') + 1 + analysis.comparisons.length,
    );
    expect(verdicts).toEqual(analysis.comparisons.map((c) => `  ${c.verdict}`));
    expect(text).toMatch(/^rampflag experiment demo: checkout-flow, classic vs one-page, 50\/50/);
  }, 40_000);
});
