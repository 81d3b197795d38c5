import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface RolloutDemoOutput {
  outcome: string;
  injectedAt: number;
  detectedAt: number;
  steps: { t: number; action: string; percent: number; reason: string }[];
  after: { value: boolean; variant: string; status: string };
  audit: { action: string; changed: boolean; reason: string }[];
  seconds: number;
}

describe('examples/rollout-demo.ts', () => {
  it('ramps, detects the injected regression, rolls back, and the service serves the safe variant', () => {
    const output = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', 'examples/rollout-demo.ts', '--json'], {
        encoding: 'utf8',
        timeout: 55_000,
      }),
    ) as RolloutDemoOutput;
    expect(output.outcome).toBe('rolled-back');
    expect(output.detectedAt).toBeGreaterThan(output.injectedAt);
    expect(output.seconds).toBeLessThan(45);
    expect(output.steps.filter((s) => s.action === 'advance').map((s) => s.percent)).toEqual([
      10, 50,
    ]);
    expect(output.after).toEqual({ value: false, variant: 'off', status: 'rolled-back' });
    expect(output.audit.map((r) => r.action)).toEqual(['start', 'advance', 'advance', 'rollback']);
    expect(output.audit.at(-1)?.reason).toMatch(
      /^errors: treatment − control .* is past the allowed 2\.000 %$/,
    );
  }, 60_000);
});
