import {
  OpenFeature,
  ProviderEvents,
  type Client,
  type EventDetails,
} from '@openfeature/server-sdk';
import type { FlagdProvider } from '../../src/index.js';

let domains = 0;

/** A client on a domain of its own, recording every provider event it sees, in order. */
export async function clientFor(
  provider: FlagdProvider,
): Promise<{ client: Client; events: [string, EventDetails | undefined][] }> {
  const domain = `test-${++domains}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  const client = OpenFeature.getClient(domain);
  const events: [string, EventDetails | undefined][] = [];
  for (const event of [
    ProviderEvents.Ready,
    ProviderEvents.Error,
    ProviderEvents.Stale,
    ProviderEvents.ConfigurationChanged,
  ]) {
    client.addHandler(event, (details) => events.push([event, details]));
  }
  events.length = 0; // a handler added to a ready client runs at once: start from here
  return { client, events };
}

/** Waits until `condition` holds, polling; fails naming `what` after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
