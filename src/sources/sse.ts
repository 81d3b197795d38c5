import { EventSource, type ErrorEvent } from 'eventsource';
import type { EvaluationContext } from '@openfeature/core';
import { isInvalidConfigurationError } from '../evaluator/index.js';
import { Reconnector } from './reconnect.js';
import type { FlagSource, FlagSourceSink } from './flag-source.js';

/** Options of {@link SseFlagSource}. */
export interface SseFlagSourceOptions {
  /** Sent as the `Flagd-Selector` header. */
  readonly selector?: string;
  /** Extra request headers (an `Authorization` bearer token, say). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
  /** Seconds disconnected before an error is reported. Default 5. */
  readonly retryGracePeriod?: number;
  /** Injected for tests. */
  readonly random?: () => number;
}

/** One `configuration` event's data: a `SyncFlagsResponse` in its proto3 JSON form. */
interface SnapshotEvent {
  readonly flagConfiguration: string;
  readonly syncContext?: EvaluationContext;
}

/**
 * flagd's sync payload over server-sent events, for networks where gRPC does not pass. The server
 * sends `event: configuration` with `data: {"flagConfiguration": "<flags JSON>", "syncContext": {…}}`
 * and an `id` per version; every event is a full snapshot. On a disconnect it is STALE at once,
 * reconnects with capped exponential backoff and jitter (sending `Last-Event-ID`), and reports an
 * error after the grace period; the last good flags stay in service throughout.
 */
export class SseFlagSource implements FlagSource {
  readonly url: string;
  readonly #options: SseFlagSourceOptions;
  #source: EventSource | undefined;
  #sink: FlagSourceSink | undefined;
  #lastEventId: string | undefined;
  #stopped = false;
  readonly #reconnect: Reconnector;

  constructor(url: string, options: SseFlagSourceOptions = {}) {
    this.url = url;
    this.#options = options;
    this.#reconnect = new Reconnector({
      retryBackoffMs: options.retryBackoffMs ?? 1000,
      retryBackoffMaxMs: options.retryBackoffMaxMs ?? 12_000,
      retryGracePeriod: options.retryGracePeriod ?? 5,
      random: options.random ?? Math.random,
    });
  }

  start(sink: FlagSourceSink): Promise<void> {
    this.#sink = sink;
    this.#stopped = false;
    return new Promise((resolve, reject) => this.#open(resolve, reject));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#reconnect.stop();
    this.#source?.close();
    this.#sink = undefined;
  }

  #headers(): Record<string, string> {
    return {
      ...this.#options.headers,
      ...(this.#options.selector === undefined ? {} : { 'Flagd-Selector': this.#options.selector }),
      ...(this.#lastEventId === undefined ? {} : { 'Last-Event-ID': this.#lastEventId }),
    };
  }

  #open(resolve?: () => void, reject?: (error: Error) => void): void {
    if (this.#stopped) return;
    const headers = this.#headers();
    const source = new EventSource(this.url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
    });
    this.#source = source;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error === undefined) resolve?.();
      else reject?.(error);
    };
    source.addEventListener('configuration', (event) => {
      if (event.lastEventId) this.#lastEventId = event.lastEventId;
      this.#reconnect.connected();
      try {
        const snapshot = JSON.parse(event.data) as SnapshotEvent;
        this.#sink?.configuration(snapshot.flagConfiguration, snapshot.syncContext);
        settle();
      } catch (error) {
        const problem = isInvalidConfigurationError(error)
          ? error
          : new Error(`SSE sync: unreadable event: ${(error as Error).message}`);
        if (!settled) settle(problem);
        else this.#sink?.error(problem);
      }
    });
    source.onerror = (event: ErrorEvent) => {
      if (source !== this.#source || this.#stopped) return;
      source.close(); // reconnect on our own schedule, with jitter
      const error = new Error(
        `SSE sync: ${event.message ?? 'connection lost'}${event.code === undefined ? '' : ` (HTTP ${event.code})`}`,
      );
      settle(error);
      this.#reconnect.disconnected(error, this.#sink, () => this.#open());
    };
  }
}
