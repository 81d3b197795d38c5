import { OpenFeature } from '@openfeature/server-sdk';
import { propagation, trace, type Span } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import { createSpanHook, withFlagVariants, withVariantBaggage } from 'rampflag/otel';
import { installOtel } from '../support/otel.js';

const otel = installOtel();
const source = new InMemoryFlagSource(
  {
    checkout: {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'on', null] },
      metadata: { version: '3' },
    },
    color: { variants: { red: 'red', blue: 'blue' }, defaultVariant: 'blue' },
    retired: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
    secret: { variants: { token: 'x'.repeat(400) }, defaultVariant: 'token' },
  },
  { metadata: { flagSetId: 'shop' } },
);

beforeAll(async () => {
  await OpenFeature.setProviderAndWait('span-hook', new FlagdProvider({ source }));
});
beforeEach(() => otel.spans.reset());
afterAll(async () => {
  await OpenFeature.close();
  await otel.uninstall();
});

/** Runs `fn` inside an active span and returns the finished span. */
async function inSpan(name: string, fn: () => Promise<unknown>) {
  await otel.tracer.startActiveSpan(name, async (span: Span) => {
    await fn();
    span.end();
  });
  return otel.spans.getFinishedSpans().find((s) => s.name === name);
}

const client = (options = {}) => {
  const c = OpenFeature.getClient('span-hook');
  c.addHooks(createSpanHook(options));
  return c;
};

describe('createSpanHook', () => {
  it('adds a feature_flag.evaluation event and a variant attribute for a targeting match', async () => {
    const flags = client();
    const span = await inSpan('match', () =>
      flags.getBooleanValue('checkout', false, { targetingKey: 'user-1', plan: 'pro' }),
    );
    expect(span?.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        'feature_flag.evaluation',
        {
          'feature_flag.key': 'checkout',
          'feature_flag.provider.name': 'flagd',
          'feature_flag.result.reason': 'targeting_match',
          'feature_flag.result.variant': 'on',
          'feature_flag.context.id': 'user-1',
          'feature_flag.set.id': 'shop',
          'feature_flag.version': '3',
        },
      ],
    ]);
    expect(span?.attributes['feature_flag.variant.checkout']).toBe('on');
  });

  it.each([
    [
      'default',
      'checkout',
      { plan: 'free' },
      { 'feature_flag.result.reason': 'default', 'feature_flag.result.variant': 'off' },
    ],
    ['disabled', 'retired', {}, { 'feature_flag.result.reason': 'disabled' }],
    [
      'not found',
      'ghost',
      {},
      {
        'feature_flag.result.reason': 'error',
        'error.type': 'flag_not_found',
        'feature_flag.error.message': 'flag "ghost" not found',
      },
    ],
  ])('records a %s evaluation', async (_name, key, context, expected) => {
    const flags = client();
    const span = await inSpan(`case-${key}`, () => flags.getBooleanValue(key, false, context));
    const attributes = span?.events[0]?.attributes ?? {};
    expect(attributes).toMatchObject({ 'feature_flag.key': key, ...expected });
    if (!('feature_flag.result.variant' in expected)) {
      expect(attributes['feature_flag.result.variant']).toBeUndefined();
      expect(span?.attributes[`feature_flag.variant.${key}`]).toBeUndefined();
    }
  });

  it('records a type mismatch', async () => {
    const flags = client();
    const span = await inSpan('mismatch', () => flags.getNumberValue('color', 0));
    expect(span?.events[0]?.attributes).toMatchObject({
      'feature_flag.result.reason': 'error',
      'error.type': 'type_mismatch',
    });
  });

  it('tags one span with every flag it evaluates', async () => {
    const flags = client();
    const span = await inSpan('many', async () => {
      await flags.getBooleanValue('checkout', false, { plan: 'pro' });
      await flags.getStringValue('color', '');
    });
    expect(span?.events).toHaveLength(2);
    expect([
      span?.attributes['feature_flag.variant.checkout'],
      span?.attributes['feature_flag.variant.color'],
    ]).toEqual(['on', 'blue']);
  });

  it('carries variants from a child span to the request span in a flag scope', async () => {
    const flags = client();
    const handler = withFlagVariants(async () => {
      await otel.tracer.startActiveSpan('db-call', async (child: Span) => {
        await flags.getStringValue('color', '');
        child.end();
      });
    });
    const request = await inSpan('GET /cart', () => handler());
    const child = otel.spans.getFinishedSpans().find((s) => s.name === 'db-call');
    expect(child?.events[0]?.attributes?.['feature_flag.key']).toBe('color');
    expect(request?.attributes['feature_flag.variant.color']).toBe('blue');
    expect(request?.events).toHaveLength(0);
  });

  it('puts the variants in baggage for downstream calls', async () => {
    const flags = client();
    let baggage: string | undefined;
    await withFlagVariants(async () => {
      await flags.getStringValue('color', '');
      withVariantBaggage(() => {
        baggage = propagation.getActiveBaggage()?.getEntry('feature_flag.variant.color')?.value;
      });
    })();
    expect(baggage).toBe('blue');
  });

  it('does nothing without an active span', async () => {
    const flags = client();
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(await flags.getStringValue('color', '')).toBe('blue');
    expect(otel.spans.getFinishedSpans()).toHaveLength(0);
  });

  it('records the value only when asked, redacted and cut to length', async () => {
    const quiet = await inSpan('quiet', () => client().getStringValue('color', ''));
    expect(quiet?.events[0]?.attributes?.['feature_flag.result.value']).toBeUndefined();
    const loud = await inSpan('loud', () =>
      client({ includeValue: true, maxValueLength: 10 }).getStringValue('secret', ''),
    );
    expect(loud?.events[0]?.attributes?.['feature_flag.result.value']).toBe(`${'x'.repeat(10)}…`);
    const redacted = await inSpan('redacted', () =>
      client({
        includeValue: true,
        redactValue: (key: string) => (key === 'secret' ? undefined : 'ok'),
      }).getStringValue('secret', ''),
    );
    expect(redacted?.events[0]?.attributes?.['feature_flag.result.value']).toBeUndefined();
  });

  it('never breaks an evaluation, whatever the span does', async () => {
    const flags = client();
    await otel.tracer.startActiveSpan('broken', async (span: Span) => {
      span.addEvent = () => {
        throw new Error('exporter down');
      };
      expect(await flags.getStringValue('color', 'fallback')).toBe('blue');
      span.end();
    });
  });
});
