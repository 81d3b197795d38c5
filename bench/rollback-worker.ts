/**
 * One process of the rollback benchmark: `count` providers of one kind (rampflag over gRPC sync or
 * SSE, or @openfeature/flagd-provider in-process), each on an OpenFeature domain of its own,
 * connected to the parent's `rampflag serve`. Each provider keeps `users` users whom the flag
 * buckets into the treatment, and the process evaluates them all every `pollMs` ms, all the time.
 *
 * Once armed for a round, a provider counts as safe at the first moment every one of its users is
 * served the safe variant. That moment is checked on two paths: at each CONFIGURATION_CHANGED (its
 * users evaluated at once), and by the periodic sweep; whichever sees it first reports the time
 * (`performance.timeOrigin + performance.now()`, ms) to the parent over IPC.
 * `fork(bench/rollback-worker.ts, [grpc|sse|peer, count, syncPort, httpPort, users, pollMs, flag, treatment, safe])`
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenFeature, ProviderEvents, type Client } from '@openfeature/server-sdk';
import { fleetProvider } from './fleet-provider.js';

const [kind, countText, syncPort, httpPort, usersText, pollText, flag, treatment, safe] =
  process.argv.slice(2);
const count = Number(countText);
const usersPer = Number(usersText);
const pollMs = Number(pollText);
const flagKey = flag ?? 'checkout';
const now = () => performance.timeOrigin + performance.now();
const send = (message: object) => process.send?.(message);

/** The most candidate keys tried to find a provider's treatment users; the rest is a failure. */
const MAX_CANDIDATES = 2_000;
/** How long arming (each provider serving the treatment to its users again) may take. */
const ARM_MS = 20_000;
/** How long a round may watch for the safe variant before it gives up. */
const WATCH_MS = 20_000;

interface Watched {
  readonly client: Client;
  users: string[];
  /** When this provider was first seen serving the safe variant to every user, this round. */
  safeAt: number | undefined;
}

const providerOf = () => fleetProvider(kind as string, Number(syncPort), Number(httpPort));

/** Evaluations this process made since the first round was armed: the load it puts on itself. */
let evaluations = 0;
let countingSince = NaN;

/** The variant `client` serves `user` now ('' on an error). */
async function variantOf(client: Client, user: string): Promise<string> {
  evaluations++;
  const details = await client.getBooleanDetails(flagKey, false, { targetingKey: user });
  return details.errorCode === undefined ? (details.variant ?? '') : '';
}

async function allServe(w: Watched, variant: string | undefined): Promise<boolean> {
  let all = true;
  for (const user of w.users) if ((await variantOf(w.client, user)) !== variant) all = false;
  return all;
}

const watched: Watched[] = [];
let round = 0;
let watching = false;
const via = { event: 0, sweep: 0 };
let sweeps = 0;

/** Records `w` as safe if every one of its users gets the safe variant now. */
async function check(w: Watched, path: 'event' | 'sweep'): Promise<void> {
  if (!watching || w.safeAt !== undefined) return;
  const armedRound = round;
  if (!(await allServe(w, safe))) return;
  const at = now();
  if (!watching || w.safeAt !== undefined || armedRound !== round) return;
  w.safeAt = at;
  via[path]++;
  send({ type: 'safe', round, at, via: path });
}

for (let i = 0; i < count; i++) {
  const domain = `rollback-${kind}-${process.pid}-${i}`;
  await OpenFeature.setProviderAndWait(domain, providerOf());
  const w: Watched = { client: OpenFeature.getClient(domain), users: [], safeAt: undefined };
  w.client.addHandler(ProviderEvents.ConfigurationChanged, () => void check(w, 'event'));
  watched.push(w);
}

/** Picks `usersPer` users the provider now serves the treatment; false if it cannot. */
async function pickUsers(w: Watched, index: number): Promise<boolean> {
  w.users = [];
  for (let k = 0; k < MAX_CANDIDATES && w.users.length < usersPer; k++) {
    const user = `user-${process.pid}-${index}-${k}`;
    if ((await variantOf(w.client, user)) === treatment) w.users.push(user);
  }
  return w.users.length === usersPer;
}

/** Waits until every provider serves the treatment to all its users (the flag is mid-rollout). */
async function arm(next: number): Promise<void> {
  watching = false;
  const end = Date.now() + ARM_MS;
  for (const [index, w] of watched.entries()) {
    for (;;) {
      const ready = w.users.length === usersPer ? await allServe(w, treatment) : false;
      if (ready || (w.users.length === 0 && (await pickUsers(w, index)))) break;
      if (Date.now() > end) {
        send({ type: 'error', message: `provider ${index} did not serve ${treatment} in time` });
        return;
      }
      await sleep(5);
    }
    w.safeAt = undefined;
  }
  if (Number.isNaN(countingSince)) {
    countingSince = Date.now();
    evaluations = 0;
  }
  round = next;
  watching = true;
  const started = Date.now();
  void (async () => {
    // the continuous sweep: every user of every provider still waiting, every pollMs
    while (watching && round === next && Date.now() - started < WATCH_MS) {
      sweeps++;
      for (const w of watched) await check(w, 'sweep');
      if (watched.every((w) => w.safeAt !== undefined)) break;
      await sleep(pollMs);
    }
  })();
  send({ type: 'armed', round: next });
}

/** Between rounds: the same load, evaluating every user every pollMs, nothing recorded. */
async function background(): Promise<void> {
  for (let i = 0; i < 1_000_000 && !closing; i++) {
    if (!watching)
      for (const w of watched) for (const user of w.users) await variantOf(w.client, user);
    await sleep(pollMs);
  }
}

let closing = false;
void background();
send({ type: 'started' });
process.on('message', (message: { type: string; round?: number; t?: number }) => {
  if (message.type === 'ping') send({ type: 'pong', t: message.t, at: now() });
  else if (message.type === 'arm') void arm(message.round ?? 0);
  else if (message.type === 'disarm') {
    watching = false;
    const perSecond = (1000 * evaluations) / (Date.now() - countingSince);
    send({ type: 'disarmed', via: { ...via }, sweeps, perSecond });
  } else if (message.type === 'close') {
    closing = true;
    watching = false;
    void OpenFeature.close().then(() => process.exit(0));
  }
});
