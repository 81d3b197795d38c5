import { InMemoryFlagSource } from 'rampflag';
import { FlagServer, type FlagServerOptions } from 'rampflag/server';
import { stopOnce } from './scratch.js';

/**
 * The flags the server's HTTP API tests evaluate, one per outcome: a targeted boolean, a number,
 * a code default, a disabled flag and a broken rule, in flag set `shop`.
 */
export function shopFlags(): InMemoryFlagSource {
  return new InMemoryFlagSource(
    {
      checkout: {
        variants: { on: true, off: false },
        defaultVariant: 'off',
        targeting: { if: [{ in: [{ var: 'ring' }, ['internal']] }, 'on', null] },
        metadata: { owner: 'payments' },
      },
      limit: { variants: { ten: 10, half: 0.5 }, defaultVariant: 'ten' },
      codeDefault: { variants: { a: 'A' } },
      retired: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
      broken: { variants: { a: 'A' }, defaultVariant: 'a', targeting: { nope: [] } },
    },
    { metadata: { flagSetId: 'shop' } },
  );
}

/** A FlagServer with every listener on a free port; `options` may override anything. */
export const serverOnFreePorts = (options: FlagServerOptions) =>
  new FlagServer({ syncPort: 0, httpPort: 0, managementPort: 0, ofrepPort: 0, ...options });

/**
 * Starts a server with every listener on a free port (the shop flags unless `options` gives a
 * source), its stop pushed on `stops` and safe to call again; with the evaluation port's URL.
 */
export async function serveStopping(
  stops: (() => unknown)[],
  options: Partial<FlagServerOptions> = {},
) {
  const source = (options.source as InMemoryFlagSource | undefined) ?? shopFlags();
  const server = serverOnFreePorts({ ...options, source });
  const ports = await server.start();
  const stop = stopOnce(() => server.stop());
  stops.push(stop);
  return { source, stop, url: `http://127.0.0.1:${ports.httpPort}`, ...ports };
}
