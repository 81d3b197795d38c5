import { backoffDelay } from './backoff.js';
import { report, reportStale } from './deliver.js';
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
 * and a reconnect after a jittered backoff. @internal
 */
export class Reconnector {
  #attempt = 0;
  #everConnected = false;
  #retry: NodeJS.Timeout | undefined;
  #grace: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReconnectOptions) {}

  /** Whether a failure with status `code` is fatal: one of `fatalCodes`, before any snapshot. */
  isFatal(code: string | undefined, fatalCodes: readonly string[]): boolean {
    return !this.#everConnected && code !== undefined && fatalCodes.includes(code);
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
    if (this.#everConnected) reportStale(sink);
    const { retryGracePeriod, retryBackoffMs, retryBackoffMaxMs, random } = this.options;
    if (this.#grace === undefined) {
      this.#grace = setTimeout(
        () =>
          report(sink, new Error(`${error.message}; disconnected for over ${retryGracePeriod} s`)),
        retryGracePeriod * 1000,
      );
      this.#grace.unref();
    }
    // flagd's provider spec: once a stream has been established, wait retryBackoffMaxMs (here with
    // equal jitter, so between half of it and all of it) before each re-open, so a fleet behind a
    // proxy that fails requests at once does not loop and does not come back in step. Before the
    // first connection, back off exponentially from retryBackoffMs, so a start is quick.
    const delay = this.#everConnected
      ? backoffDelay(0, retryBackoffMaxMs, retryBackoffMaxMs, random)
      : backoffDelay(this.#attempt++, retryBackoffMs, retryBackoffMaxMs, random);
    this.#retry = setTimeout(reopen, delay);
  }

  stop(): void {
    clearTimeout(this.#retry);
    clearTimeout(this.#grace);
  }
}
