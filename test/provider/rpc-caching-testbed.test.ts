import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature, ProviderEvents, type Client } from '@openfeature/server-sdk';
import { afterAll, expect, it } from 'vitest';
import { FlagServer } from 'rampflag/server';
import { FileFlagSource, FlagdProvider } from '../../src/index.js';
import { evaluateWithClient, evaluationSteps, type FlagWorld } from '../support/flagd-steps.js';
import { defineScenarios, loadPickles, reportAfterAll, Tally } from '../support/gherkin.js';
import { until } from '../support/provider-events.js';
import { describeWithData, testbedDir } from '../support/shared-data.js';
import { EVALUATOR_TAGS, mergedTestbedFlags, withChangingFlagToggled } from '../support/testbed.js';

interface RpcWorld extends FlagWorld {
  file?: string;
  server?: FlagServer;
  httpPort?: number;
  provider?: FlagdProvider;
  client?: Client;
  seen: Record<string, unknown[]>;
}

const dir = mkdtempSync(join(tmpdir(), 'rampflag-rpc-testbed-'));
let scenario = 0;

/** `rampflag serve` on the testbed's flags (a file the scenario may modify), as flagd's launchpad. */
async function startServer(w: RpcWorld, httpPort = 0): Promise<void> {
  const source = new FileFlagSource(w.file as string, { pollIntervalMs: 100 });
  w.server = new FlagServer({ source, syncPort: 0, httpPort, managementPort: 0, ofrepPort: 0 });
  w.httpPort = (await w.server.start()).httpPort;
}

async function startProvider(w: RpcWorld): Promise<void> {
  w.file = join(dir, `flags-${++scenario}.json`);
  writeFileSync(w.file, JSON.stringify(mergedTestbedFlags(testbedDir as string)));
  await startServer(w);
  w.provider = new FlagdProvider({
    resolverType: 'rpc',
    host: '127.0.0.1',
    port: w.httpPort as number,
    cache: 'lru',
    retryBackoffMs: 100,
    retryBackoffMaxMs: 500,
  });
  const domain = `rpc-scenario-${scenario}`;
  await OpenFeature.setProviderAndWait(domain, w.provider);
  w.client = OpenFeature.getClient(domain);
  for (const event of [
    ProviderEvents.Ready,
    ProviderEvents.Stale,
    ProviderEvents.Error,
    ProviderEvents.ConfigurationChanged,
  ]) {
    w.client.addHandler(event, (details) => (w.seen[event] ??= []).push(details));
  }
  w.seen = {}; // a handler added to a ready client runs at once: start from here
}

const EVENTS: Record<string, ProviderEvents> = {
  ready: ProviderEvents.Ready,
  stale: ProviderEvents.Stale,
  error: ProviderEvents.Error,
  change: ProviderEvents.ConfigurationChanged,
};

/** Waits for the next `event` since the last one waited for, consuming it. */
async function fired(w: RpcWorld, event: ProviderEvents, ms: number): Promise<void> {
  await until(() => (w.seen[event]?.length ?? 0) > 0, `a ${event} event`, ms);
  w.seen[event]?.shift();
}

const steps = evaluationSteps<RpcWorld>(evaluateWithClient)
  .define(/^an option "cache" of type "CacheType" with value "lru"$/, () => {
    // startProvider sets it
  })
  .define(/^a stable flagd provider$/, (w) => startProvider(w))
  .define(/^an? (ready|stale|error|change) event handler$/, () => {
    // registered in startProvider
  })
  .define(/^the flag was modified$/, (w) => {
    const file = w.file as string;
    writeFileSync(file, withChangingFlagToggled(readFileSync(file, 'utf8')));
  })
  .define(/^an? (ready|stale|error|change) event was fired$/, (w, [name]) =>
    fired(w, EVENTS[name as string] as ProviderEvents, 10_000),
  )
  .define(/^the connection is lost for (\d+)s$/, async (w, [seconds]) => {
    await w.server?.stop();
    setTimeout(() => void startServer(w, w.httpPort), Number(seconds) * 1000);
  });

describeWithData(
  testbedDir,
  'flagd-testbed rpc-caching.feature (RPC mode against rampflag serve)',
  () => {
    const tally = new Tally('flagd-testbed gherkin rpc-caching (RPC mode, server-sdk)');
    const pickles = loadPickles(
      join(testbedDir as string, 'gherkin', 'rpc-caching.feature'),
      EVALUATOR_TAGS,
    );
    it('has scenarios', () => expect(pickles.length).toBeGreaterThan(0));
    defineScenarios(
      pickles,
      steps,
      tally,
      (): RpcWorld => ({ context: {}, seen: {} }),
      async (w) => {
        await w.provider?.onClose();
        await w.server?.stop();
      },
    );
    reportAfterAll(tally);
    afterAll(async () => {
      await OpenFeature.close();
      rmSync(dir, { recursive: true, force: true });
    });
  },
);
