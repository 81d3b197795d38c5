import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlagdWebProvider } from '@openfeature/flagd-web-provider';
import type { EvaluationContext, JsonValue } from '@openfeature/core';
import { OpenFeature, ProviderEvents, type Client } from '@openfeature/web-sdk';
import { afterAll, expect, it } from 'vitest';
import { InMemoryFlagSource } from 'rampflag';
import { createEvaluator, type Evaluator } from '../../src/evaluator/index.js';
import { serveStopping } from '../support/test-server.js';
import { until } from '../support/provider-events.js';
import { describeWithData, testbedDir } from '../support/shared-data.js';
import { INTEROP_CONTEXTS } from '../support/testbed.js';

const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await OpenFeature.close();
});

const serve = (source: InMemoryFlagSource) => serveStopping(stops, { source });

let domains = 0;
/** The published web provider as a new user sets it up: host, port, no TLS; on a domain of its own. */
async function webClient(port: number): Promise<{ client: Client; domain: string }> {
  const provider = new FlagdWebProvider({ host: '127.0.0.1', port, tls: false });
  const domain = `web-${++domains}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  return { client: OpenFeature.getClient(domain), domain };
}

function details(client: Client, key: string, sample: unknown) {
  if (typeof sample === 'boolean') return client.getBooleanDetails(key, sample);
  if (typeof sample === 'number') return client.getNumberDetails(key, sample);
  if (typeof sample === 'string') return client.getStringDetails(key, sample);
  return client.getObjectDetails(key, {});
}

/**
 * What flagd's web provider reports for a flag, from rampflag's own evaluator: the value, variant
 * and reason of a flag that resolves to a variant; FLAG_NOT_FOUND for one that does not (an error,
 * a disabled flag or a code default), which `ResolveAll` leaves out, as flagd's does.
 */
function reference(evaluator: Evaluator, key: string, sample: unknown, context: EvaluationContext) {
  const result =
    typeof sample === 'boolean'
      ? evaluator.resolveBoolean(key, sample, context)
      : typeof sample === 'number'
        ? evaluator.resolveNumber(key, sample, context)
        : typeof sample === 'string'
          ? evaluator.resolveString(key, sample, context)
          : evaluator.resolveObject(key, {}, context);
  if (result.errorCode !== undefined || result.variant === undefined)
    return {
      value: typeof sample === 'object' ? {} : sample,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    };
  return { value: result.value, variant: result.variant, reason: result.reason };
}

const contexts = [
  ...INTEROP_CONTEXTS,
  { targetingKey: 'a-very-different-user', color: 'yellow', version: '0.9.0', age: 12 },
] as EvaluationContext[];

describeWithData(testbedDir, 'the published @openfeature/flagd-web-provider', () => {
  it('becomes ready and resolves the testbed flags as rampflag (flagd) does, per static context', async () => {
    const testkit = JSON.parse(
      readFileSync(join(testbedDir as string, 'evaluator/flags/testkit-flags.json'), 'utf8'),
    ) as { flags: Record<string, { variants: Record<string, JsonValue> }>; $evaluators: object };
    const source = new InMemoryFlagSource(testkit.flags as never, {
      evaluators: testkit.$evaluators as never,
    });
    const { httpPort } = await serve(source);
    const { client, domain } = await webClient(httpPort);
    const evaluator = createEvaluator();
    evaluator.setConfiguration(testkit as never);
    let compared = 0;
    let notFound = 0;
    let targeted = 0;
    const mismatches: string[] = [];
    for (const [index, context] of contexts.entries()) {
      await OpenFeature.setContext(domain, context); // the web provider re-fetches every flag
      for (const [key, flag] of Object.entries(testkit.flags)) {
        const sample = Object.values(flag.variants)[0];
        const got = details(client, key, sample);
        const want = reference(evaluator, key, sample, context);
        if (want.reason === 'ERROR') notFound++;
        if (want.reason === 'TARGETING_MATCH') targeted++;
        if (
          JSON.stringify([got.value, got.variant, got.reason, got.errorCode]) !==
          JSON.stringify([want.value, want.variant, want.reason, want.errorCode])
        )
          mismatches.push(`${key} ${index}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
        compared++;
      }
    }
    console.log(
      `web provider interop: ${compared} evaluations (${Object.keys(testkit.flags).length} testbed flags x ${contexts.length} contexts) compared, ${targeted} TARGETING_MATCH, ${notFound} left out of ResolveAll as flagd does; differing: ${JSON.stringify(mismatches)}`,
    );
    expect(compared).toBeGreaterThanOrEqual(200);
    expect(targeted).toBeGreaterThan(50); // the contexts matter: the provider sends each one
    expect(mismatches).toEqual([]);
  });
});

it('a flag change reaches the web provider: CONFIGURATION_CHANGED, then the new value', async () => {
  const source = new InMemoryFlagSource({
    banner: { variants: { a: 'hello', b: 'bonjour' }, defaultVariant: 'a' },
  });
  const { httpPort } = await serve(source);
  const { client } = await webClient(httpPort);
  let changes = 0;
  client.addHandler(ProviderEvents.ConfigurationChanged, () => changes++);
  expect(client.getStringDetails('banner', '')).toMatchObject({
    value: 'hello',
    variant: 'a',
    reason: 'STATIC',
  });
  source.update('banner', { defaultVariant: 'b' });
  await until(() => changes > 0, 'CONFIGURATION_CHANGED');
  expect(client.getStringDetails('banner', '')).toMatchObject({
    value: 'bonjour',
    variant: 'b',
    reason: 'STATIC',
  });
  source.set('fresh', { variants: { on: true }, defaultVariant: 'on' });
  await until(() => changes > 1, 'a second CONFIGURATION_CHANGED');
  expect(client.getBooleanValue('fresh', false)).toBe(true);
});
