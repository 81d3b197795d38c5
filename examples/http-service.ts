/**
 * An HTTP service whose request spans carry the variant of every flag evaluated while serving them,
 * printed by OpenTelemetry's console exporter. `npx tsx examples/http-service.ts` starts the
 * service on a free port, sends three requests and exits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenFeature } from '@openfeature/server-sdk';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { FlagdProvider, InMemoryFlagSource } from 'rampflag';
import { createSpanHook, withFlagVariants } from 'rampflag/otel';

// OpenTelemetry: spans to the console. A real service would use an OTLP exporter and the HTTP
// instrumentation, which starts the request span this example starts by hand.
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(tracerProvider);
const tracer = trace.getTracer('shop');

// OpenFeature: flags in memory here; a flag file or flagd in production.
const flags = new InMemoryFlagSource({
  'new-checkout': {
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: { if: [{ in: [{ var: 'ring' }, ['internal']] }, 'on', null] },
  },
  'header-color': { variants: { blue: '#2980b9' }, defaultVariant: 'blue' },
});
await OpenFeature.setProviderAndWait(new FlagdProvider({ source: flags }));
OpenFeature.addHooks(createSpanHook());
const client = OpenFeature.getClient();

async function renderCart(user: string, ring: string): Promise<string> {
  // A child span: the variants still reach the request span through withFlagVariants.
  return tracer.startActiveSpan('render-cart', async (span) => {
    const checkout = await client.getBooleanValue('new-checkout', false, {
      targetingKey: user,
      ring,
    });
    const color = await client.getStringValue('header-color', '#000000', { targetingKey: user });
    span.end();
    return `cart for ${user}: ${checkout ? 'new' : 'classic'} checkout, header ${color}`;
  });
}

const handler = withFlagVariants(async (req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  res.end(
    await renderCart(
      url.searchParams.get('user') ?? 'anonymous',
      url.searchParams.get('ring') ?? 'public',
    ),
  );
});

const server = createServer((req, res) => {
  // The request (server) span; the HTTP instrumentation does this in a real service.
  tracer.startActiveSpan(`GET ${req.url?.split('?')[0] ?? '/'}`, { kind: 1 }, (span) => {
    res.once('finish', () => span.end());
    void handler(req, res);
  });
});
server.listen(0);
const { port } = server.address() as AddressInfo;
for (const [user, ring] of [
  ['alice', 'public'],
  ['erin', 'internal'],
  ['bob', 'public'],
]) {
  const body = await (
    await fetch(`http://localhost:${port}/cart?user=${user}&ring=${ring}`)
  ).text();
  console.log(`response: ${body}`);
}
server.close();
await OpenFeature.close();
await tracerProvider.shutdown();
