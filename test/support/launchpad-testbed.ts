import { basename, join } from 'node:path';
import {
  OpenFeature,
  ProviderEvents,
  ProviderStatus,
  type Client,
  type EventDetails,
} from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FlagdProvider, type FlagdProviderSettings } from '../../src/index.js';
import { evaluateWithClient, evaluationSteps, typedValue, type FlagWorld } from './flagd-steps.js';
import { defineScenarios, loadPickles, reportAfterAll, Tally } from './gherkin.js';
import { Launchpad, TLS_DIR } from './launchpad.js';
import { describeWithData, testbedDir } from './shared-data.js';

/** The provider modes the launchpad scenarios run in: each has its tag in the testbed. */
export type LaunchpadMode = 'in-process' | 'rpc';

/** Scenarios for a provider in `mode` at testbed v3.9.0. */
export const launchpadTags = (mode: LaunchpadMode): string =>
  `@${mode} and not @fractional-v1 and not @fractional-v3 and not @deprecated`;

const EVENTS = {
  ready: ProviderEvents.Ready,
  error: ProviderEvents.Error,
  stale: ProviderEvents.Stale,
  change: ProviderEvents.ConfigurationChanged,
} as const;
type EventName = keyof typeof EVENTS;

interface LaunchpadWorld extends FlagWorld {
  options: Record<string, unknown>;
  client?: Client;
  provider?: FlagdProvider;
  /** Every event seen, in order; a step that waits for one consumes it. */
  events: [EventName, EventDetails | undefined][];
  changed: string[];
  /** How initialisation ended: `setProviderAndWait` resolved, or the error it threw. */
  init?: { ok: true } | { ok: false; error: Error };
  /** Events the steps consumed so far. */
  consumed: number;
}

/**
 * The testbed providers that must fail to initialise, and what their failure must say: unreachable
 * (the deadline passes with nothing connected) or refused by envoy's 403 (PERMISSION_DENIED, fatal).
 * A provider that fails for another reason (a broken setup) fails the scenario instead of passing it.
 */
const FAILING: Record<string, RegExp> = {
  unavailable: /deadlineMs|UNAVAILABLE|ECONNREFUSED/,
  forbidden: /PERMISSION_DENIED/,
};

let domains = 0;

/**
 * Checks an ERROR event is a real one: it says why, and when initialisation failed, it is that
 * failure's event (the SDK reports the error `initialize()` threw), not some other error.
 */
function checkError(w: LaunchpadWorld, details: EventDetails | undefined, first: boolean): void {
  const message = details?.message;
  expect(message, 'an ERROR event says why').toEqual(expect.any(String));
  if (first && w.init?.ok === false) expect(message).toBe(w.init.error.message);
}

/** Waits for an event of `name` and consumes it, so "ready → error → ready" needs a second READY. */
async function consume(
  w: LaunchpadWorld,
  name: EventName,
  ms: number,
  launchpad: Launchpad,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const at = w.events.findIndex(([event]) => event === name);
    if (at >= 0) {
      const first = w.consumed === 0;
      const details = w.events.splice(0, at + 1)[at]?.[1];
      w.consumed++;
      const changed = (details as { flagsChanged?: string[] } | undefined)?.flagsChanged;
      if (name === 'change') w.changed.push(...(changed ?? []));
      if (name === 'error') checkError(w, details, first);
      return;
    }
    if (Date.now() > end) {
      const seen = w.events.map(([e]) => e).join(', ') || 'none';
      const why = launchpad.restartError
        ? `; the server did not restart: ${launchpad.restartError.message}`
        : '';
      throw new Error(`no ${name} event within ${ms} ms (saw ${seen})${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The provider settings for a testbed provider name (flagd-spec §g) in `mode`: an in-process
 * provider connects to a config's sync port, an RPC one to its evaluation port.
 */
async function settingsFor(
  launchpad: Launchpad,
  name: string,
  mode: LaunchpadMode,
): Promise<FlagdProviderSettings> {
  const local = { resolverType: mode, host: '127.0.0.1' } as const;
  const kind = mode === 'rpc' ? 'evaluation' : 'sync';
  switch (name) {
    case 'stable':
      return { ...local, port: await launchpad.port('default', kind) };
    case 'syncpayload':
      return { ...local, port: await launchpad.port('sync-payload', kind) };
    case 'metadata':
      return { ...local, port: await launchpad.port('metadata', kind) };
    case 'ssl':
      return {
        ...local,
        host: 'localhost',
        port: await launchpad.port('ssl', kind),
        tls: true,
        certPath: join(TLS_DIR, 'ca-cert.pem'),
      };
    case 'socket':
      await launchpad.port('socket', kind);
      return { resolverType: mode, socketPath: launchpad.socketPath(kind) };
    case 'unavailable':
      return { ...local, port: await launchpad.unavailablePort() };
    case 'forbidden':
      return { ...local, port: await launchpad.forbiddenPort() };
    default:
      throw new Error(`no testbed provider named "${name}"`);
  }
}

/**
 * Makes initialisation's outcome visible to the scenario: a provider that should become ready and
 * did not fails the step with its error; an unavailable or forbidden one must fail, and for the
 * reason its name says (its ERROR event is then checked against this error, see {@link consume}).
 */
function checkInit(name: string, init: NonNullable<LaunchpadWorld['init']>): void {
  const expected = FAILING[name];
  if (expected === undefined) {
    if (!init.ok)
      throw new Error(`the ${name} provider failed to initialise: ${init.error.message}`);
    return;
  }
  if (init.ok) throw new Error(`the ${name} provider initialised, though nothing serves it`);
  expect(init.error.message, `why the ${name} provider failed`).toMatch(expected);
}

function steps(launchpad: Launchpad, mode: LaunchpadMode) {
  return evaluationSteps<LaunchpadWorld>(evaluateWithClient)
    .define(/^an option "targetUri" of type "String" with value "(.*)"$/, async (w, [uri]) => {
      // the testbed's envoy listens on <port>; ours on a free one
      w.options['targetUri'] = (uri as string).replace(
        '<port>',
        String(await launchpad.envoyPort()),
      );
    })
    .define(/^an option "(\w+)" of type "(\w+)" with value "(.*)"$/, (w, [name, type, value]) => {
      w.options[name as string] =
        type === 'StringList'
          ? (value as string).split(',').map((s) => s.trim())
          : typedValue(type as string, value as string);
    })
    .define(/^an? (\w+) flagd provider$/, async (w, [name]) => {
      const base = await settingsFor(launchpad, name as string, mode);
      // through envoy, the target URI alone says where to go: no host or port to fall back on
      const { host: _host, port: _port, ...viaProxy } = base;
      const settings = { ...('targetUri' in w.options ? viaProxy : base), ...w.options };
      const provider = new FlagdProvider(settings as FlagdProviderSettings);
      const domain = `${mode}-${++domains}`;
      const client = OpenFeature.getClient(domain);
      for (const [event, type] of Object.entries(EVENTS))
        client.addHandler(type, (details) => w.events.push([event as EventName, details]));
      w.provider = provider;
      w.client = client;
      w.init = await OpenFeature.setProviderAndWait(domain, provider).then(
        () => ({ ok: true }) as const,
        (error: unknown) => ({ ok: false, error: error as Error }) as const,
      );
      checkInit(name as string, w.init);
    })
    .define(/^an? (ready|error|stale|change) event handler$/, () => {
      // every event is recorded from the start; the steps below consume them in order
    })
    .define(
      /^the (ready|error|stale|change) event handler should have been executed(?: within (\d+)ms)?$/,
      (w, [name, within]) =>
        consume(w, name as EventName, within ? Number(within) : 30_000, launchpad),
    )
    .define(/^an? (ready|error|stale|change) event was fired$/, (w, [name]) =>
      consume(w, name as EventName, 30_000, launchpad),
    )
    .define(/^the connection is lost for (\d+)s$/, (_w, [seconds]) =>
      launchpad.loseConnection(Number(seconds)),
    )
    .define(/^the flag was modified$/, () => launchpad.modifyChangingFlag())
    .define(/^the flag should be part of the event payload$/, (w) => {
      expect(w.changed).toContain(w.flag?.key);
    })
    .define(/^the client should be in fatal state$/, (w) => {
      expect(w.client?.providerStatus).toBe(ProviderStatus.FATAL);
    });
}

/**
 * Declares the testbed's provider scenarios for `mode` of `features` (testbed feature names, or
 * paths of supplement feature files) against `rampflag serve` child processes, serving the testbed
 * flags through re-created launchpad configs.
 */
export function describeLaunchpadTestbed(
  title: string,
  features: readonly string[],
  mode: LaunchpadMode,
): void {
  describeWithData(testbedDir, title, () => {
    const launchpad = testbedDir === undefined ? undefined : new Launchpad(testbedDir);
    const tally = new Tally(`flagd-testbed gherkin ${title}`);
    const newWorld = (): LaunchpadWorld => ({
      context: {},
      options: {},
      events: [],
      changed: [],
      consumed: 0,
    });
    const close = async (w: LaunchpadWorld) => {
      await w.provider?.onClose();
    };
    vi.setConfig({ testTimeout: 60_000 }); // a lost connection takes seconds to come back
    beforeAll(() => launchpad?.port('default'));
    for (const feature of features) {
      // a testbed feature by name, or a supplement's path (SUPPLEMENT_FEATURES)
      const file = feature.endsWith('.feature')
        ? feature
        : join(testbedDir as string, 'gherkin', `${feature}.feature`);
      describe(`${basename(file, '.feature')}.feature`, () => {
        const pickles = loadPickles(file, launchpadTags(mode));
        it('has scenarios', () => expect(pickles.length).toBeGreaterThan(0));
        defineScenarios(pickles, steps(launchpad as Launchpad, mode), tally, newWorld, close);
      });
    }
    reportAfterAll(tally);
    afterAll(async () => {
      await OpenFeature.close();
      await launchpad?.close();
    });
  });
}
