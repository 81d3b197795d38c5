/**
 * One provider under chaos: evaluates a flag continuously, records every provider event with its
 * time, and counts evaluations that failed (an error code, or the code default: in-process
 * evaluation must keep serving the last good flags whatever the server does).
 */
import type { Client } from '@openfeature/server-sdk';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import type { FlagdProvider } from '../src/index.js';

export const FLAG = 'banner';
const DEFAULT = 'code-default';
const BATCH = 20;

export interface ProbeEvent {
  readonly type: ProviderEvents;
  readonly at: number;
}

let domains = 0;

export class ChaosProbe {
  readonly events: ProbeEvent[] = [];
  evaluations = 0;
  failed = 0;
  /** The first few failures, to say what went wrong. */
  readonly failures: string[] = [];
  /** The value the last evaluation returned. */
  value: string | undefined;
  #running = false;
  #loop: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    readonly provider: FlagdProvider,
    readonly client: Client,
  ) {}

  /** Starts `provider` on a domain of its own and waits for it to be ready. */
  static async start(name: string, provider: FlagdProvider): Promise<ChaosProbe> {
    const domain = `chaos-${name}-${++domains}`;
    await OpenFeature.setProviderAndWait(domain, provider);
    const probe = new ChaosProbe(name, provider, OpenFeature.getClient(domain));
    for (const type of [
      ProviderEvents.Ready,
      ProviderEvents.Stale,
      ProviderEvents.Error,
      ProviderEvents.ConfigurationChanged,
    ])
      probe.client.addHandler(type, () => probe.events.push({ type, at: Date.now() }));
    probe.events.length = 0; // a handler added to a ready client runs at once
    return probe;
  }

  /** Evaluates without pause (yielding to I/O every few evaluations) until {@link stop}. */
  run(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        for (let i = 0; i < BATCH; i++) await this.#evaluateOnce();
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
  }

  async #evaluateOnce(): Promise<void> {
    this.evaluations++;
    const details = await this.client.getStringDetails(FLAG, DEFAULT);
    if (details.errorCode !== undefined || details.value === DEFAULT) {
      this.failed++;
      if (this.failures.length < 5)
        this.failures.push(`${details.errorCode ?? ''} ${details.errorMessage ?? details.value}`);
      return;
    }
    this.value = details.value;
  }

  /** The events of `type` at or after `since`. */
  count(type: ProviderEvents, since: number): number {
    return this.events.filter((e) => e.type === type && e.at >= since).length;
  }

  /** Whether a STALE came at or after `since` and a READY after that STALE. */
  staleThenReady(since: number): boolean {
    const stale = this.events.findIndex((e) => e.type === ProviderEvents.Stale && e.at >= since);
    return stale >= 0 && this.events.slice(stale + 1).some((e) => e.type === ProviderEvents.Ready);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.provider.onClose();
  }
}
