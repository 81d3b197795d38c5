import { InMemoryFlagSource } from 'rampflag';
import { FlagServer, type FlagServerOptions } from 'rampflag/server';

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
