import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryFlagSource } from 'rampflag';
import { serverOnFreePorts } from '../support/test-server.js';
import { clientFor } from '../support/provider-events.js';
import { inProcessProvider } from '../support/sync-flags.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe("a configuration over gRPC's default 4 MiB message limit", () => {
  it('reaches an in-process provider over gRPC sync', async () => {
    // 6 MiB: under the evaluator's 16 MiB, over gRPC's default receive limit
    const flags: Record<string, unknown> = {
      big: {
        state: 'ENABLED',
        variants: { a: 'x'.repeat(6 * 1024 * 1024), b: 'b' },
        defaultVariant: 'b',
      },
    };
    const server = serverOnFreePorts({ source: new InMemoryFlagSource(flags as never) });
    const { syncPort } = await server.start();
    stops.push(() => server.stop());
    // 6 MiB takes a few hundred ms to build, send and parse on a busy machine: more than the
    // default 500 ms deadline, which is not what this test is about
    const provider = inProcessProvider(syncPort, { deadlineMs: 10_000 });
    stops.push(() => provider.onClose());
    const { client } = await clientFor(provider);
    expect(await client.getStringValue('big', 'none')).toBe('b');
  });
});
