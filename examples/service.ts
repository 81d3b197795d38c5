/**
 * A service that evaluates flags from a flag file and reacts when an operator edits it.
 * `npx tsx examples/service.ts` copies examples/flags.json to a temporary file, serves it, edits
 * the file (as a deploy or an operator would), and shows the change arriving.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { FlagdProvider } from 'rampflag';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-service-'));
const flagFile = join(dir, 'flags.json');
copyFileSync(new URL('./flags.json', import.meta.url), flagFile);

// The same options as @openfeature/flagd-provider's file mode.
await OpenFeature.setProviderAndWait(
  new FlagdProvider({ resolverType: 'in-process', offlineFlagSourcePath: flagFile }),
);
const client = OpenFeature.getClient('checkout-service');

const alice = { targetingKey: 'alice', ring: 'public' };
console.log(
  `new-checkout for alice: ${await client.getBooleanValue('new-checkout', false, alice)}`,
);

// rampflag's file watcher does not keep a process alive (a service's server does); this guard does
// here, and fails the example if the change never arrives.
const guard = setTimeout(() => {
  console.error('no configuration change within 10 s');
  process.exit(1);
}, 10_000);
const changed = new Promise<string[]>((resolve) => {
  client.addHandler(ProviderEvents.ConfigurationChanged, (details) =>
    resolve(details?.flagsChanged ?? []),
  );
});
// An operator ramps new-checkout from 10 % to 100 %.
const flags = JSON.parse(readFileSync(flagFile, 'utf8'));
flags.flags['new-checkout'].targeting.if[2].fractional = [
  { var: 'targetingKey' },
  ['on', 100],
  ['off', 0],
];
writeFileSync(flagFile, JSON.stringify(flags, null, 2));

console.log(`configuration changed: ${(await changed).join(', ')}`);
console.log(
  `new-checkout for alice: ${await client.getBooleanValue('new-checkout', false, alice)}`,
);
const details = await client.getBooleanDetails('new-checkout', false, alice);
console.log(
  `reason ${details.reason}, variant ${details.variant}, owner ${String(details.flagMetadata['owner'])}`,
);

clearTimeout(guard);
await OpenFeature.close();
rmSync(dir, { recursive: true, force: true });
