import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverOnFreePorts } from '../support/test-server.js';
import { InMemoryFlagSource } from 'rampflag';
import { fetchAllFlags } from 'rampflag/grpc';
import { freePort } from '../support/launchpad.js';

const source = new InMemoryFlagSource({
  shop: { variants: { a: 'shop' }, defaultVariant: 'a', metadata: { flagSetId: 'shop' } },
  blog: { variants: { a: 'blog' }, defaultVariant: 'a', metadata: { flagSetId: 'blog' } },
});
const server = serverOnFreePorts({
  source,
});
let port = 0;
beforeAll(async () => {
  port = (await server.start()).syncPort;
});
afterAll(() => server.stop());

describe('fetchAllFlags', () => {
  it('returns the whole configuration a server holds now', async () => {
    const doc = JSON.parse(await fetchAllFlags({ host: '127.0.0.1', port })) as { flags: object };
    expect(Object.keys(doc.flags)).toEqual(['shop', 'blog']);
  });

  it('sends the selector', async () => {
    const json = await fetchAllFlags({ host: '127.0.0.1', port, selector: 'flagSetId=blog' });
    expect(Object.keys((JSON.parse(json) as { flags: object }).flags)).toEqual(['blog']);
  });

  it('rejects with the gRPC status when no server answers within the deadline', async () => {
    const closed = await freePort();
    await expect(
      fetchAllFlags({ host: '127.0.0.1', port: closed, deadlineMs: 300 }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/),
    });
  });

  it('rejects a bad selector with INVALID_ARGUMENT', async () => {
    await expect(fetchAllFlags({ host: '127.0.0.1', port, selector: 'team=web' })).rejects.toThrow(
      /INVALID_ARGUMENT: selector key "team"/,
    );
  });
});
