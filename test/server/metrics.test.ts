import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverOnFreePorts } from '../support/test-server.js';
import { InMemoryFlagSource } from 'rampflag';
import type { FlagServer } from 'rampflag/server';
import { clientFor } from '../support/provider-events.js';
import { inProcessProvider } from '../support/sync-flags.js';

const source = new InMemoryFlagSource({
  checkout: { variants: { on: true, off: false }, defaultVariant: 'off' },
});
const server = serverOnFreePorts({
  source,
});
let ports: Awaited<ReturnType<FlagServer['start']>>;
beforeAll(async () => {
  ports = await server.start();
});
afterAll(() => server.stop());

const metrics = async () =>
  (await fetch(`http://127.0.0.1:${ports.managementPort}/metrics`)).text();

describe('/metrics on the management port', () => {
  it('counts evaluations by flag, variant and reason, in the Prometheus text format', async () => {
    for (let i = 0; i < 3; i++)
      await fetch(`http://127.0.0.1:${ports.ofrepPort}/ofrep/v1/evaluate/flags/checkout`, {
        method: 'POST',
      });
    await fetch(`http://127.0.0.1:${ports.httpPort}/flagd.evaluation.v1.Service/ResolveBoolean`, {
      method: 'POST',
      body: JSON.stringify({ flagKey: 'checkout' }),
    });
    const text = await metrics();
    expect(text).toContain('# TYPE feature_flag_flagd_impression_total counter');
    expect(text).toContain(
      'feature_flag_flagd_impression_total{feature_flag_key="checkout",feature_flag_variant="off",feature_flag_reason="STATIC"} 4',
    );
    expect(text).toMatch(/rampflag_http_requests_total\{listener="ofrep",code="200"\} 3/);
  });

  it('shows open sync streams and configuration updates and refusals', async () => {
    const { client } = await clientFor(inProcessProvider(ports.syncPort));
    expect(await metrics()).toContain('rampflag_sync_streams{transport="grpc"} 1');
    source.setValue('checkout', true);
    expect(() => source.set('bad', { variants: {}, defaultVariant: 'x' })).toThrow();
    const text = await metrics();
    expect(text).toContain('rampflag_configuration_updates_total{source="default"} 2');
    expect(text).toContain('rampflag_configuration_rejected_total{source="default"} 1');
    expect(text).toContain('rampflag_configuration_version 2');
    await client.getBooleanValue('checkout', false);
  });
});
