import { execFileSync } from 'node:child_process';
import murmurReference from 'murmurhash3js-revisited';
import { describe, expect, it } from 'vitest';

describe('examples/service.ts', () => {
  it('serves the flag file and picks up the edit', () => {
    const lines = execFileSync(process.execPath, ['--import', 'tsx', 'examples/service.ts'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    // Before the edit alice is bucketed at 10 %: on only when her bucket is below 10.
    const bucket = Math.floor(
      ((murmurReference.x86.hash32(new TextEncoder().encode('alice'), 0) >>> 0) * 100) / 2 ** 32,
    );
    expect(lines).toEqual([
      `new-checkout for alice: ${bucket < 10}`,
      'configuration changed: new-checkout',
      'new-checkout for alice: true',
      'reason TARGETING_MATCH, variant on, owner payments',
    ]);
  });
});
