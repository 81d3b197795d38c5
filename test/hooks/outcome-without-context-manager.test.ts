import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import {
  COHORT_ATTRIBUTE,
  createOutcomeRecorder,
  createSpanHook,
  OUTCOME_METRICS,
} from 'rampflag/otel';
import { CollectingReader } from '../support/otel.js';

// As in the README's Prometheus recipe: a meter provider, and no context manager registered.
context.disable();
const reader = new CollectingReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const recorder = createOutcomeRecorder({
  meter: meterProvider.getMeter('test'),
  cohortAttribute: 'ring',
  maxCohorts: 3,
});
const source = new InMemoryFlagSource({
  checkout: {
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: { if: [{ in: [{ var: 'ring' }, ['internal']] }, 'on', null] },
  },
});
const client = OpenFeature.getClient('outcomes');
client.addHooks(createSpanHook());
let server: Server;
let base = '';

beforeAll(async () => {
  await OpenFeature.setProviderAndWait('outcomes', new FlagdProvider({ source }));
  server = createServer(
    recorder.wrap(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const ring = url.searchParams.get('ring');
      const on = await client.getBooleanValue('checkout', false, {
        targetingKey: url.searchParams.get('user') ?? 'anon',
        ...(ring === null ? {} : { ring }),
      });
      await new Promise((r) => setTimeout(r, on ? 30 : 0));
      res.statusCode = url.searchParams.has('fail') ? 503 : 200;
      res.end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await OpenFeature.close();
  await meterProvider.shutdown();
  metrics.disable();
});

describe('the outcome recorder without an OpenTelemetry context manager', () => {
  it('still records every request per variant and cohort', async () => {
    for (let i = 0; i < 5; i++) await fetch(`${base}/?user=u${i}&ring=internal`);
    await fetch(`${base}/?user=x&ring=internal&fail`);
    for (let i = 0; i < 4; i++) await fetch(`${base}/?user=v${i}`);
    await fetch(`${base}/?user=y&fail`);
    const totals = recorder.totals('checkout');
    expect(totals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ variant: 'on', cohort: 'internal', requests: 6, failures: 1 }),
        expect.objectContaining({ variant: 'off', cohort: 'none', requests: 5, failures: 1 }),
      ]),
    );
    const slow = totals.find((s) => s.variant === 'on');
    expect(slow?.atOrBelow[10]).toBe(0); // each 'on' request waited 30 ms
    expect(slow?.atOrBelow[10000]).toBe(6);
    const { resourceMetrics } = await reader.collect();
    const requests = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === OUTCOME_METRICS.requests);
    expect(
      requests?.dataPoints.map((p) => [p.attributes[COHORT_ATTRIBUTE], p.value]).sort(),
    ).toEqual([
      ['internal', 6],
      ['none', 5],
    ]);
  });

  it('keeps the cohort label low-cardinality', async () => {
    for (const ring of ['a', 'b', 'c', 'd', 'x'.repeat(100)])
      await fetch(`${base}/?user=z&ring=${ring}`);
    const cohorts = new Set(recorder.totals('checkout').map((s) => s.cohort));
    expect(cohorts).toEqual(new Set(['internal', 'a', 'b', 'none', 'other'])); // three named at most
  });
});
