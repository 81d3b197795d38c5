import { EventSource, type ErrorEvent } from 'eventsource';
import type { EvaluationContext } from '@openfeature/core';
import { parseJsonText } from '../evaluator/json-limits.js';
import { asError, deliver, report } from './deliver.js';
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

/** The most an event's data may hold: a configuration at the evaluator's limit, escaped as JSON text. */
export const MAX_SSE_EVENT_BYTES = 32 * 1024 * 1024;
/** How deep an event's data may nest (the sync context; the configuration is a string in it). */
export const MAX_SSE_EVENT_DEPTH = 128;

/** An event's data as the sink's arguments, or why it is not a snapshot. Never throws. */
function readSnapshot(
  data: string,
): { readonly args: [string, EvaluationContext?] } | { readonly problem: Error } {
  try {
    const snapshot = parseJsonText(data, {
      maxBytes: MAX_SSE_EVENT_BYTES,
      maxDepth: MAX_SSE_EVENT_DEPTH,
    }) as Partial<Record<keyof SnapshotEvent, unknown>> | null;
    if (typeof snapshot !== 'object' || snapshot === null || Array.isArray(snapshot))
      throw new Error('not a JSON object');
    const { flagConfiguration, syncContext } = snapshot;
    if (typeof flagConfiguration !== 'string') throw new Error('flagConfiguration is not a string');
    if (syncContext === undefined || syncContext === null) return { args: [flagConfiguration] };
    if (typeof syncContext !== 'object' || Array.isArray(syncContext))
      throw new Error('syncContext is not an object');
    return { args: [flagConfiguration, syncContext as EvaluationContext] };
  } catch (error) {
    return {
      problem: new Error(
        `SSE sync: unreadable event: ${asError(error).message}; serving the last good flags`,
        { cause: error },
      ),
    };
  }
}

/**
 * flagd's sync payload over server-sent events, for networks where gRPC does not pass. The server
 * sends `event: configuration` with `data: {"flagConfiguration": "<flags JSON>", "syncContext": {…}}`
 * and an `id` per version; every event is a full snapshot. On a disconnect it is STALE at once,
 * reconnects with capped exponential backoff and jitter (sending `Last-Event-ID`), and reports an
 * error after the grace period; the last good flags stay in service throughout. An event that is
 * not a snapshot or a configuration that does not load is reported as an error, never thrown.
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
      const sink = this.#sink;
      if (sink === undefined) return;
      const snapshot = readSnapshot(event.data);
      const problem = 'problem' in snapshot ? snapshot.problem : deliver(sink, ...snapshot.args);
      if (!settled) settle(problem);
      else if (problem !== undefined) report(sink, problem);
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
