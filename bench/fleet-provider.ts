/**
 * The provider one member of a benchmark fleet uses: rampflag over gRPC sync (`grpc`) or SSE
 * (`sse`), or the published `@openfeature/flagd-provider` over gRPC sync (`peer`), all in-process
 * against one server on loopback.
 */
import { FlagdProvider as PeerProvider } from '@openfeature/flagd-provider';
import type { Provider } from '@openfeature/server-sdk';
import { FlagdProvider, SseFlagSource } from './subject.js';

export function fleetProvider(kind: string, syncPort: number, httpPort: number): Provider {
  const grpc = { resolverType: 'in-process', host: '127.0.0.1', port: syncPort } as const;
  if (kind === 'peer') return new PeerProvider(grpc);
  if (kind === 'sse')
    return new FlagdProvider({
      source: new SseFlagSource(`http://127.0.0.1:${httpPort}/sync/sse`),
    });
  return new FlagdProvider(grpc);
}
