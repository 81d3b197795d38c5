import { afterEach, describe, expect, it, vi } from 'vitest';
import { Reconnector } from '../../src/sources/reconnect.js';
import type { FlagSourceSink } from '../../src/sources/flag-source.js';

afterEach(() => vi.useRealTimers());

function setup(random: () => number) {
  vi.useFakeTimers();
  const reported: string[] = [];
  const sink: FlagSourceSink = {
    configuration: () => undefined,
    error: () => reported.push('error'),
    stale: () => reported.push('stale'),
  };
  const reconnector = new Reconnector({
    retryBackoffMs: 1000,
    retryBackoffMaxMs: 12_000,
    retryGracePeriod: 5,
    random,
  });
  const reopened: number[] = [];
  const lose = () =>
    reconnector.disconnected(new Error('lost'), sink, () => reopened.push(Date.now()));
  return { reconnector, reported, reopened, lose, start: Date.now() };
}

describe('Reconnector', () => {
  it('backs off exponentially from retryBackoffMs before the first connection', () => {
    const { reopened, lose, start } = setup(() => 1);
    for (const wait of [1000, 2000, 4000]) {
      lose();
      vi.advanceTimersByTime(wait);
    }
    expect(reopened.map((t) => t - start)).toEqual([1000, 3000, 7000]);
  });

  it('after losing an established stream: STALE at once, and each re-open after retryBackoffMaxMs, jittered', () => {
    const { reconnector, reported, reopened, lose, start } = setup(() => 0);
    reconnector.connected();
    lose();
    expect(reported).toEqual(['stale']);
    vi.advanceTimersByTime(5999);
    expect(reopened).toEqual([]);
    expect(reported).toEqual(['stale', 'error']); // the 5 s grace period is over
    vi.advanceTimersByTime(1);
    lose();
    vi.advanceTimersByTime(6000);
    expect(reopened.map((t) => t - start)).toEqual([6000, 12_000]);
  });

  it('spreads a fleet over the upper half of retryBackoffMaxMs', () => {
    const delays = [0, 0.5, 0.999].map((r) => {
      const { reconnector, reopened, lose, start } = setup(() => r);
      reconnector.connected();
      lose();
      vi.runOnlyPendingTimers();
      reconnector.stop();
      vi.useRealTimers();
      return (reopened[0] as number) - start;
    });
    expect(delays).toEqual([6000, 9000, 11_994]);
  });
});
