/**
 * One process of the propagation benchmark: `count` providers of one kind, each on an OpenFeature
 * domain of its own, connected to the parent's server. Reports to the parent over IPC the wall-clock
 * time (ms, sub-millisecond) of every CONFIGURATION_CHANGED and READY its providers emit.
 * `fork(bench/propagation-worker.ts, [grpc|sse|peer, count, syncPort, httpPort])`
 */
import { FlagdProvider as PeerProvider } from '@openfeature/flagd-provider';
import { OpenFeature, ProviderEvents, type Provider } from '@openfeature/server-sdk';
import { FlagdProvider, SseFlagSource } from './subject.js';

const [kind, countText, syncPort, httpPort] = process.argv.slice(2);
const count = Number(countText);
const now = () => performance.timeOrigin + performance.now();
const send = (message: object) => process.send?.(message);

function providerOf(): Provider {
  const grpc = { resolverType: 'in-process', host: '127.0.0.1', port: Number(syncPort) } as const;
  if (kind === 'peer') return new PeerProvider(grpc);
  if (kind === 'sse')
    return new FlagdProvider({
      source: new SseFlagSource(`http://127.0.0.1:${httpPort}/sync/sse`),
    });
  return new FlagdProvider(grpc);
}

for (let i = 0; i < count; i++) {
  const domain = `${kind}-${process.pid}-${i}`;
  await OpenFeature.setProviderAndWait(domain, providerOf());
  const client = OpenFeature.getClient(domain);
  client.addHandler(ProviderEvents.ConfigurationChanged, () =>
    send({ type: 'changed', at: now() }),
  );
  let ready = true; // the handler below runs at once for a ready client
  client.addHandler(ProviderEvents.Ready, () => {
    if (ready) ready = false;
    else send({ type: 'ready', at: now() });
  });
}
send({ type: 'started' });
process.on('message', (message: { type: string }) => {
  if (message.type === 'close') void OpenFeature.close().then(() => process.exit(0));
});
