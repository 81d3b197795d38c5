/**
 * One process of the propagation benchmark: `count` providers of one kind, each on an OpenFeature
 * domain of its own, connected to the parent's server. Reports to the parent over IPC the wall-clock
 * time (ms, sub-millisecond) of every CONFIGURATION_CHANGED and READY its providers emit.
 * `fork(bench/propagation-worker.ts, [grpc|sse|peer, count, syncPort, httpPort])`
 */
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { fleetProvider } from './fleet-provider.js';

const [kind, countText, syncPort, httpPort] = process.argv.slice(2);
const count = Number(countText);
const now = () => performance.timeOrigin + performance.now();
const send = (message: object) => process.send?.(message);

const providerOf = () => fleetProvider(kind as string, Number(syncPort), Number(httpPort));

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
