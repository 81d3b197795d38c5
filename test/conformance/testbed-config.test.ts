import { join } from 'node:path';
import { expect, it } from 'vitest';
import { resolveConfig, type FlagdConfig } from '../../src/provider/config.js';
import { defineScenarios, loadPickles, reportAfterAll, Steps, Tally } from '../support/gherkin.js';
import { testbedDir, describeWithData } from '../support/shared-data.js';

interface ConfigWorld {
  options: Record<string, unknown>;
  env: Record<string, string>;
  config?: FlagdConfig;
  error?: unknown;
}

/** An option value as the testbed writes it, by type. */
function optionValue(type: string, text: string): unknown {
  switch (type) {
    case 'Integer':
    case 'Long':
      return Number.parseInt(text, 10);
    case 'Boolean':
      return text.toLowerCase() === 'true';
    case 'StringList':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'ResolverType':
      return text.toLowerCase();
    default:
      return text === 'null' ? null : text;
  }
}

const steps = new Steps<ConfigWorld>()
  .define(/^an option "(.*)" of type "(\w+)" with value "(.*)"$/, (w, [name, type, value]) => {
    w.options[name as string] = optionValue(type as string, value as string);
  })
  .define(/^an environment variable "(.*)" with value "(.*)"$/, (w, [name, value]) => {
    w.env[name as string] = value as string;
  })
  .define(/^a config was initialized$/, (w) => {
    try {
      w.config = resolveConfig(w.options, w.env);
    } catch (error) {
      w.error = error;
    }
  })
  .define(
    /^the option "(.*)" of type "(\w+)" should have the value "(.*)"$/,
    (w, [name, type, value]) => {
      expect(w.error).toBeUndefined();
      const key = name === 'resolver' ? 'resolverType' : (name as string);
      expect((w.config as unknown as Record<string, unknown>)[key]).toEqual(
        optionValue(type as string, value as string),
      );
    },
  )
  .define(/^we should have an error$/, (w) => {
    expect(w.error).toBeInstanceOf(Error);
    expect((w.error as Error).name).toBe('FlagdConfigError');
  });

// config.feature, the scenarios for every mode rampflag's provider has: file, in-process and rpc options.
describeWithData(testbedDir, 'flagd-testbed config.feature', () => {
  const tally = new Tally('flagd-testbed gherkin config (@file, @in-process, @rpc)');
  const pickles = loadPickles(
    join(testbedDir as string, 'gherkin', 'config.feature'),
    '(@file or @in-process or @rpc) and not @deprecated',
  );
  it('has the option scenarios', () => expect(pickles.length).toBeGreaterThan(50));
  defineScenarios(pickles, steps, tally, () => ({ options: {}, env: {} }));
  reportAfterAll(tally);
});
