/**
 * The live half of the demo: the embedded server serves examples/flags.json, two services follow
 * it (one over gRPC, one over SSE), and an operator ramps new-checkout to 100 % by editing the file.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { FileFlagSource, FlagdProvider, SseFlagSource } from 'rampflag';
import { FlagServer } from 'rampflag/server';

export interface LiveResult {
  readonly services: readonly {
    readonly name: string;
    readonly transport: string;
    readonly before: boolean;
    readonly after: boolean;
    readonly changed: readonly string[];
    readonly ms: number;
  }[];
}

export async function runLiveDemo(): Promise<LiveResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rampflag-demo-'));
  const file = join(dir, 'flags.json');
  copyFileSync(new URL('./flags.json', import.meta.url), file);
  const server = new FlagServer({
    source: new FileFlagSource(file, { debounceMs: 5 }),
    syncPort: 0,
    httpPort: 0,
    managementPort: null,
    ofrepPort: null,
  });
  const { syncPort, httpPort } = await server.start();
  const guard = setTimeout(() => {
    console.error('demo: no change reached the services within 10 s');
    process.exit(1);
  }, 10_000);

  const services = [
    {
      name: 'checkout-service',
      transport: 'gRPC sync',
      provider: new FlagdProvider({
        resolverType: 'in-process',
        host: '127.0.0.1',
        port: syncPort,
      }),
    },
    {
      name: 'cart-service',
      transport: 'SSE',
      provider: new FlagdProvider({
        source: new SseFlagSource(`http://127.0.0.1:${httpPort}/sync/sse`),
      }),
    },
  ];
  const alice = { targetingKey: 'alice', ring: 'public' };
  const followers = await Promise.all(
    services.map(async (service) => {
      await OpenFeature.setProviderAndWait(service.name, service.provider);
      const client = OpenFeature.getClient(service.name);
      const before = await client.getBooleanValue('new-checkout', false, alice);
      const changed = new Promise<{ keys: string[]; at: number }>((resolve) =>
        client.addHandler(ProviderEvents.ConfigurationChanged, (details) =>
          resolve({ keys: details?.flagsChanged ?? [], at: performance.now() }),
        ),
      );
      return { ...service, client, before, changed };
    }),
  );

  // The operator's edit: new-checkout from 10 % to 100 %.
  const flags = JSON.parse(readFileSync(file, 'utf8'));
  flags.flags['new-checkout'].targeting.if[2].fractional = [
    { var: 'targetingKey' },
    ['on', 100],
    ['off', 0],
  ];
  const editedAt = performance.now();
  writeFileSync(file, JSON.stringify(flags, null, 2));

  const result: LiveResult = {
    services: await Promise.all(
      followers.map(async (f) => {
        const { keys, at } = await f.changed;
        return {
          name: f.name,
          transport: f.transport,
          before: f.before,
          after: await f.client.getBooleanValue('new-checkout', false, alice),
          changed: keys,
          ms: at - editedAt,
        };
      }),
    ),
  };
  clearTimeout(guard);
  await OpenFeature.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return result;
}
