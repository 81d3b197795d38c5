/**
 * `client.getBooleanValue` through three providers in this process: the SDK's no-op provider (the
 * floor: what the SDK itself costs), rampflag's FlagdProvider and @openfeature/flagd-provider, both
 * in file mode on the same flag file. Prints `{"floor": ns, "ours": ns, "peer": ns}`.
 * `node --import tsx bench/provider-case.ts <static|ring> <iterations>`
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlagdProvider as PeerProvider } from '@openfeature/flagd-provider';
import { NOOP_PROVIDER, OpenFeature } from '@openfeature/server-sdk';
import { measureAsync } from './harness.js';
import { FlagdProvider } from './subject.js';
import { BENCH_FLAGS, users } from './workload.js';

const [name, iterations] = process.argv.slice(2);
const flag = name === 'ring' ? 'ring' : 'static-bool';
const dir = mkdtempSync(join(tmpdir(), 'rampflag-bench-'));
const file = join(dir, 'flags.json');
writeFileSync(file, JSON.stringify(BENCH_FLAGS));
const population = users(10_000);

await OpenFeature.setProviderAndWait('floor', NOOP_PROVIDER);
await OpenFeature.setProviderAndWait(
  'ours',
  new FlagdProvider({ resolverType: 'in-process', offlineFlagSourcePath: file }),
);
await OpenFeature.setProviderAndWait(
  'peer',
  new PeerProvider({ resolverType: 'in-process', offlineFlagSourcePath: file }),
);
const clients = {
  floor: OpenFeature.getClient('floor'),
  ours: OpenFeature.getClient('ours'),
  peer: OpenFeature.getClient('peer'),
};

const results: Record<string, number[]> = { floor: [], ours: [], peer: [] };
for (let round = 0; round < 3; round++) {
  for (const side of ['floor', 'ours', 'peer'] as const) {
    const client = clients[side];
    const m = await measureAsync(
      (i) => client.getBooleanValue(flag, false, population[i % population.length]),
      Number(iterations),
    );
    results[side]?.push(m.nsPerOp);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] as number;
console.log(
  JSON.stringify({
    floor: median(results['floor'] ?? []),
    ours: median(results['ours'] ?? []),
    peer: median(results['peer'] ?? []),
  }),
);
await OpenFeature.close();
rmSync(dir, { recursive: true, force: true });
