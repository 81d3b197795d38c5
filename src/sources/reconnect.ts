import { backoffDelay } from './backoff.js';
import type { FlagSourceSink } from './flag-source.js';

/** Options of {@link Reconnector}: flagd's names and defaults. */
export interface ReconnectOptions {
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** Seconds disconnected before an error is reported. */
  readonly retryGracePeriod: number;
  readonly random: () => number;
}

/**
 * What a streaming source does when its connection comes and goes, per flagd's provider spec:
 * STALE at once on a disconnect (once it has been connected), an error after the grace period,
 * and a reconnect after capped exponential backoff with jitter. @internal
 */
export class Reconnector {
  #attempt = 0;
  #everConnected = false;
  #retry: NodeJS.Timeout | undefined;
  #grace: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReconnectOptions) {}

  /** Whether a snapshot has ever arrived (a fatal status only counts before). */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  /** A snapshot arrived: the connection is good. */
  connected(): void {
    this.#attempt = 0;
    this.#everConnected = true;
    clearTimeout(this.#grace);
    this.#grace = undefined;
  }

  /** The connection was lost: report it, and call `reopen` after the backoff. */
  disconnected(error: Error, sink: FlagSourceSink | undefined, reopen: () => void): void {
    if (this.#everConnected) sink?.stale();
    const { retryGracePeriod, retryBackoffMs, retryBackoffMaxMs, random } = this.options;
    if (this.#grace === undefined) {
      this.#grace = setTimeout(
        () =>
          sink?.error(new Error(`${error.message}; disconnected for over ${retryGracePeriod} s`)),
        retryGracePeriod * 1000,
      );
      this.#grace.unref();
    }
    this.#retry = setTimeout(
      reopen,
      backoffDelay(this.#attempt++, retryBackoffMs, retryBackoffMaxMs, random),
    );
  }

  stop(): void {
    clearTimeout(this.#retry);
    clearTimeout(this.#grace);
  }
}
