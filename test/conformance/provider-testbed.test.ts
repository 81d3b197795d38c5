import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  OpenFeature,
  ProviderEvents,
  type Client,
  type EventDetails,
} from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { FlagdProvider } from '../../src/index.js';
import { evaluateWithClient, evaluationSteps, type FlagWorld } from '../support/flagd-steps.js';
import { defineScenarios, loadPickles, reportAfterAll, Tally } from '../support/gherkin.js';
import { testbedDir, describeWithData } from '../support/shared-data.js';
import {
  EVALUATOR_TAGS,
  mergedTestbedFlags,
  SUPPLEMENT_FEATURES,
  withChangingFlagToggled,
} from '../support/testbed.js';

interface ProviderWorld extends FlagWorld {
  selector?: string | undefined;
  file?: string;
  provider?: FlagdProvider;
  client?: Client;
  changes: EventDetails[];
}

const dir = mkdtempSync(join(tmpdir(), 'rampflag-testbed-'));
let scenario = 0;

/** The flags a flagd testbed provider serves: the merged allFlags.json, or the file a selector names. */
function flagsFor(selector: string | undefined): string {
  const testbed = testbedDir as string;
  if (selector === undefined || selector === 'flags/allFlags.json')
    return JSON.stringify(mergedTestbedFlags(testbed));
  return readFileSync(join(testbed, 'flags', selector.replace(/^rawflags\//, '')), 'utf8');
}

async function startProvider(w: ProviderWorld, selector: string | undefined): Promise<void> {
  const file = join(dir, `flags-${++scenario}.json`);
  writeFileSync(file, flagsFor(selector));
  const domain = `scenario-${scenario}`;
  w.file = file;
  w.provider = new FlagdProvider({
    resolverType: 'in-process',
    offlineFlagSourcePath: file,
    offlinePollIntervalMs: 100,
  });
  await OpenFeature.setProviderAndWait(domain, w.provider);
  w.client = OpenFeature.getClient(domain);
  w.client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
    if (details !== undefined) w.changes.push(details);
  });
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const steps = evaluationSteps<ProviderWorld>(evaluateWithClient)
  .define(/^an option "cache" of type "CacheType" with value "disabled"$/, () => {
    // the RPC cache: nothing to disable in file mode
  })
  .define(/^an option "selector" of type "String" with value "(.*)"$/, (w, [selector]) => {
    w.selector = selector;
  })
  .define(/^a (?:stable|metadata) flagd provider$/, (w) => startProvider(w, w.selector))
  .define(/^a change event handler$/, () => {
    // registered with the provider; see startProvider
  })
  .define(/^the flag was modified$/, (w) => {
    const file = w.file as string;
    writeFileSync(file, withChangingFlagToggled(readFileSync(file, 'utf8')));
  })
  .define(/^a change event was fired$/, (w) =>
    until(() => w.changes.length > 0, 5000, 'a change event'),
  )
  .define(/^the flag should be part of the event payload$/, (w) => {
    expect(w.changes.flatMap((c) => c.flagsChanged ?? [])).toContain(w.flag?.key);
  });

// The testbed's provider suites through the real @openfeature/server-sdk, in file mode.
describeWithData(testbedDir, 'flagd-testbed provider suites (file mode)', () => {
  const tally = new Tally('flagd-testbed gherkin provider (file mode, server-sdk)');
  const newWorld = (): ProviderWorld => ({ context: {}, changes: [] });
  const close = async (w: ProviderWorld) => {
    await w.provider?.onClose();
  };
  const testbedFeatures = ['evaluation', 'targeting', 'metadata', 'disabled', 'events'].map(
    (feature) => join(testbedDir as string, 'gherkin', `${feature}.feature`),
  );
  for (const file of [...testbedFeatures, ...SUPPLEMENT_FEATURES]) {
    const feature = basename(file, '.feature');
    describe(`${feature}.feature`, () => {
      const all = loadPickles(file, EVALUATOR_TAGS);
      // events: only the change scenario; the others need a connection to lose
      const pickles =
        feature === 'events' ? all.filter((p) => p.name === 'Flag change event') : all;
      it('has scenarios', () => expect(pickles.length).toBeGreaterThan(0));
      defineScenarios(pickles, steps, tally, newWorld, close);
    });
  }
  reportAfterAll(tally);
  afterAll(async () => {
    await OpenFeature.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
