import { describe, expect, it } from 'vitest';
import { FlagdProvider, SseFlagSource } from 'rampflag';
import { runChaos } from '../../bench/chaos-run.js';

// bench/chaos.ts in brief: one restart, one kill and one partition of `rampflag serve` under
// providers that never stop evaluating.
describe('the in-process provider under server chaos', () => {
  it('serves every evaluation, goes STALE then READY each time, and loses no change', async () => {
    const cycles = 3;
    const report = await runChaos({
      cycles,
      entry: 'source',
      sse: true,
      downMs: 100,
      recoverMs: 15_000,
      Provider: FlagdProvider,
      SseSource: SseFlagSource,
    });
    expect(report.faults).toEqual({ restart: 1, kill: 1, partition: 1 });
    for (const [name, transport] of Object.entries(report.transports)) {
      expect(transport.evaluations, name).toBeGreaterThan(1000);
      expect({ name, failed: transport.failedEvaluations, failures: transport.failures }).toEqual({
        name,
        failed: 0,
        failures: [],
      });
      expect({
        name,
        staleThenReady: transport.staleThenReady,
        lost: transport.lostChanges,
      }).toEqual({ name, staleThenReady: cycles, lost: 0 });
    }
  }, 60_000);
});
