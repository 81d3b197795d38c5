/**
 * What the span hook costs per `client.getBooleanValue`, against an empty hook (the SDK's own
 * cost of running a hook) and no hook: inside a
 * recording span (renewed every 100 evaluations, so events stay within the SDK's span limits), and
 * with no span at all. Prints nanoseconds per evaluation as JSON.
 * `node --import tsx bench/otel-case.ts <iterations>`
 */
import { OpenFeature } from '@openfeature/server-sdk';
import { context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { measureAsync } from './harness.js';
import { createSpanHook, FlagdProvider, InMemoryFlagSource } from './subject.js';
import { users } from './workload.js';

const iterations = Number(process.argv[2]);
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(tracerProvider);
const tracer = tracerProvider.getTracer('bench');

const source = new InMemoryFlagSource({
  ring: {
    variants: { on: true, off: false },
    defaultVariant: 'off',
    targeting: { fractional: [{ var: 'targetingKey' }, ['on', 5], ['off', 95]] },
  },
});
await OpenFeature.setProviderAndWait('plain', new FlagdProvider({ source }));
await OpenFeature.setProviderAndWait('hooked', new FlagdProvider({ source }));
await OpenFeature.setProviderAndWait('empty', new FlagdProvider({ source }));
const plain = OpenFeature.getClient('plain');
const hooked = OpenFeature.getClient('hooked');
hooked.addHooks(createSpanHook());
// The SDK's own cost of running any hook: the floor the span hook is measured against.
const empty = OpenFeature.getClient('empty');
empty.addHooks({ finally() {} });
const population = users(10_000);

/** Evaluations inside a recording span, a new span every 100. */
function inSpans(client: typeof plain) {
  let span: Span | undefined;
  return (i: number) => {
    if (i % 100 === 0) {
      span?.end();
      exporter.reset();
      span = tracer.startSpan('request');
    }
    return context.with(trace.setSpan(context.active(), span as Span), () =>
      client.getBooleanValue('ring', false, population[i % population.length]),
    );
  };
}

const out: Record<string, number[]> = {
  plain: [],
  emptyNoSpan: [],
  hookNoSpan: [],
  emptyInSpan: [],
  hookInSpan: [],
};
for (let round = 0; round < 3; round++) {
  out['plain']?.push(
    (
      await measureAsync(
        (i) => plain.getBooleanValue('ring', false, population[i % 10_000]),
        iterations,
      )
    ).nsPerOp,
  );
  out['emptyNoSpan']?.push(
    (
      await measureAsync(
        (i) => empty.getBooleanValue('ring', false, population[i % 10_000]),
        iterations,
      )
    ).nsPerOp,
  );
  out['hookNoSpan']?.push(
    (
      await measureAsync(
        (i) => hooked.getBooleanValue('ring', false, population[i % 10_000]),
        iterations,
      )
    ).nsPerOp,
  );
  out['emptyInSpan']?.push((await measureAsync(inSpans(empty), iterations)).nsPerOp);
  out['hookInSpan']?.push((await measureAsync(inSpans(hooked), iterations)).nsPerOp);
}
const median = (xs: number[] | undefined) => [...(xs ?? [])].sort((a, b) => a - b)[1] as number;
console.log(JSON.stringify(Object.fromEntries(Object.keys(out).map((k) => [k, median(out[k])]))));
await OpenFeature.close();
await tracerProvider.shutdown();
