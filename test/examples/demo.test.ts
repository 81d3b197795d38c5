import { execFileSync } from 'node:child_process';
import murmurReference from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';

interface DemoOutput {
  live: {
    services: {
      name: string;
      transport: string;
      before: boolean;
      after: boolean;
      changed: string[];
      ms: number;
    }[];
  };
  population: number;
  splits: Record<string, Record<string, number>>;
  named: {
    name: string;
    ring: string;
    variant: string;
    reason: string;
    hash?: number;
    bucket?: number;
    totalWeight?: number;
  }[];
}

const output = JSON.parse(
  execFileSync(process.execPath, ['--import', 'tsx', 'examples/demo.ts', '--json'], {
    encoding: 'utf8',
  }),
) as DemoOutput;
const share = (flag: string, variant: string) =>
  (output.splits[flag]?.[variant] ?? 0) / output.population;

describe('examples/demo.ts', () => {
  it('splits every user of the population, once per flag', () => {
    expect(output.population).toBe(100_000);
    for (const counts of Object.values(output.splits)) {
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(100_000);
    }
  });

  it('splits the percentage rollouts close to their weights', () => {
    // 1 % of users are in the beta ring; the other 99 % get "on" with weight 10 of 100
    expect(share('new-checkout', 'on')).toBeCloseTo(0.01 + 0.99 * 0.1, 2);
    for (const color of ['red', 'blue', 'green', 'yellow'])
      expect(share('header-color', color)).toBeCloseTo(0.25, 2);
  });

  it('follows the rule-based flags exactly', () => {
    expect(output.splits['staff-banner']).toEqual({ show: 2_000, hide: 98_000 }); // every 50th is staff
    expect(output.splits['max-cart-items']).toEqual({ premium: 20_000, standard: 80_000 }); // every 5th
    expect(output.splits['dark-mode']).toEqual({ off: 100_000 });
    expect(output.splits['legacy-export']).toEqual({ '(disabled)': 100_000 });
  });

  it('shows named users in the bucket their MurmurHash3 puts them in', () => {
    for (const n of output.named) {
      if (n.ring === 'internal') {
        expect([n.variant, n.bucket]).toEqual(['on', undefined]);
        continue;
      }
      const hash = murmurReference.x86.hash32(new TextEncoder().encode(n.name), 0) >>> 0;
      const bucket = Math.floor((hash * 100) / 2 ** 32);
      expect([n.hash, n.bucket, n.totalWeight]).toEqual([hash, bucket, 100]);
      expect(n.variant).toBe(bucket < 10 ? 'on' : 'off');
    }
  });

  it('shows both services following a live edit through the embedded server', () => {
    const bucket = Math.floor(
      ((murmurReference.x86.hash32(new TextEncoder().encode('alice'), 0) >>> 0) * 100) / 2 ** 32,
    );
    expect(
      output.live.services.map((s) => [s.name, s.transport, s.changed, s.before, s.after]),
    ).toEqual([
      ['checkout-service', 'gRPC sync', ['new-checkout'], bucket < 10, true],
      ['cart-service', 'SSE', ['new-checkout'], bucket < 10, true],
    ]);
    for (const s of output.live.services) expect(s.ms).toBeLessThan(5000);
  });
});
