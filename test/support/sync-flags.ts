import { FlagdProvider, type FlagdProviderSettings } from 'rampflag';

/**
 * The flags the streaming-source tests serve: `color` (static, the given value) and `aware`
 * (INTERNAL only when the sync context carries injectedmetadata=set, as in the flagd testbed).
 */
export const syncFlags = (color: string) => ({
  flags: {
    color: { state: 'ENABLED', variants: { c: color, x: 'x' }, defaultVariant: 'c' },
    aware: {
      state: 'ENABLED',
      variants: { internal: 'INTERNAL', external: 'EXTERNAL' },
      defaultVariant: 'external',
      targeting: { if: [{ '==': [{ var: 'injectedmetadata' }, 'set'] }, 'internal', null] },
    },
  },
});

/** A FlagdProvider in in-process mode on the sync server at `port`, retrying fast for tests. */
export function inProcessProvider(port: number, extra: FlagdProviderSettings = {}): FlagdProvider {
  return new FlagdProvider({
    resolverType: 'in-process',
    host: '127.0.0.1',
    port,
    retryBackoffMs: 20,
    retryBackoffMaxMs: 100,
    ...extra,
  });
}
