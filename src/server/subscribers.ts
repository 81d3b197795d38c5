import type { ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@openfeature/core';
import type { ServerMetrics } from './metrics.js';
import type { Selector } from './selector.js';
import type { ServedFlags } from './served-flags.js';
import type { SyncCall } from './sync-service.js';
import type { GrpcServerStream } from './grpc-evaluation.js';
import { changedFlags, PROTO_EVENTS, type EventEncoding } from './event-changes.js';

/** The default of `ServerLimits.maxStreamBufferBytes`: 16 MiB. @internal */
export const DEFAULT_MAX_STREAM_BUFFER_BYTES = 16 * 1024 * 1024;

const REFETCH = 'event: message\ndata: {"type":"refetchEvaluation"}\n\n';

/**
 * The transports of streams: `grpc-events` is the evaluation service's `EventStream` over gRPC,
 * `connect-events` the same over the Connect streaming protocol (flagd's web provider),
 * `grpc-web-events` over gRPC-Web. @internal
 */
export type Transport =
  'grpc' | 'sse' | 'ofrep-sse' | 'grpc-events' | 'connect-events' | 'grpc-web-events';

/** How often an `EventStream` gets flagd's `keep_alive` event (flagd-spec §d.2): 20 s. @internal */
export const EVENT_KEEP_ALIVE_MS = 20_000;

/**
 * How far the open sync streams are delivered with one configuration version: `sent` streams are
 * known to be up to date with `version` (or newer), `pending` ones are not yet.
 */
export interface Delivery {
  /** The version asked about. */
  readonly version: number;
  /** The version served now. */
  readonly current: number;
  /** Open streams. */
  readonly streams: number;
  /** Open streams up to date with `version`. */
  readonly sent: number;
  /** Open streams not yet up to date with `version`: `streams - sent`. */
  readonly pending: number;
  /** The same counts for each transport, every transport listed. */
  readonly transports: Readonly<
    Record<Transport, { readonly streams: number; readonly sent: number }>
  >;
}

/** A `whenDelivered` call waiting for `lagging` open streams to reach `version`. */
interface Waiter {
  readonly version: number;
  lagging: number;
  settle(): void;
}

/** What a subscriber does with its stream. */
interface StreamIo {
  /** Writes the stream its current message; `written` runs once the stream handed it on. */
  send(written: (error?: Error | null) => void): void;
  end(code: grpc.status, details: string): void;
  /** Bytes written to the stream that its client has not taken yet. */
  buffered(): number;
  /** Closes a stream whose client stopped reading, freeing what it buffered where it can. */
  drop(details: string): void;
  /** Writes a keep-alive message, if the transport has one. */
  keepAlive?(): void;
}

/** One open stream: how to send it its selection, and the JSON it last received. */
interface Subscriber extends StreamIo {
  readonly transport: Transport;
  readonly selector: Selector;
  /** What this stream last received; compared by identity (ServedFlags keeps unchanged JSON's). */
  sent: string;
  /** Messages written, and how many of them the stream has handed on. */
  writes: number;
  written: number;
  /** The newest version whose payload for this selection is `sent`. */
  covered: number;
  /** The newest version this stream is known to be up to date with (-1: none yet). */
  delivered: number;
}

/**
 * Everyone subscribed to changes: gRPC sync streams, SSE sync streams and OFREP notification
 * streams, each with its selection. A change reaches only those whose selection changed, with the
 * message encoded once per selection. A stream is registered only once its first message is
 * written, and a stream that fails is closed alone: the others still get every change. A stream
 * whose client stops reading is closed once more than `maxBufferBytes` wait in it (gRPC with
 * RESOURCE_EXHAUSTED), so a stuck client cannot make the server hold every snapshot.
 *
 * Each stream's delivery is tracked: it is up to date with a version once the message carrying
 * that version (or a payload equal to that version's) was handed on by the stream: to HTTP/2 for
 * gRPC, to the OS for SSE. {@link delivery} counts them, {@link whenDelivered} waits for them.
 * @internal
 */
export class Subscribers {
  readonly #flags: ServedFlags;
  readonly #metrics: ServerMetrics;
  readonly #logger: Logger;
  readonly #open = new Set<Subscriber>();
  readonly #maxBufferBytes: number;
  readonly #waiters = new Set<Waiter>();
  readonly #keepAliveMs: number;
  #keepAlive: NodeJS.Timeout | undefined;
  /** `configuration_change` messages of this broadcast, by encoding and the JSON they go from and to. */
  readonly #changes = new Map<EventEncoding, Map<string, Map<string, Uint8Array | null>>>();

  constructor(
    flags: ServedFlags,
    metrics: ServerMetrics,
    logger: Logger,
    maxBufferBytes = DEFAULT_MAX_STREAM_BUFFER_BYTES,
    keepAliveMs = EVENT_KEEP_ALIVE_MS,
  ) {
    this.#flags = flags;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#maxBufferBytes = maxBufferBytes;
    this.#keepAliveMs = keepAliveMs;
  }

  /** How many streams are open. */
  get size(): number {
    return this.#open.size;
  }

  /** A `SyncFlags` stream: the current snapshot now, and every change of its selection. */
  addGrpc(call: SyncCall, selector: Selector): void {
    // The call is an object-mode stream (its writableLength counts messages): count bytes until
    // each message's write completes, which HTTP/2 flow control holds back for a client not reading.
    let pending = 0;
    const end = (code: grpc.status, details: string) => call.emit('error', { code, details });
    const subscriber = this.#subscriber('grpc', selector, {
      send: (written) => {
        const bytes = this.#flags.syncBytes(selector);
        pending += bytes.length;
        call.write(bytes, (error?: Error | null) => {
          pending -= bytes.length;
          written(error);
        });
      },
      end,
      buffered: () => pending,
      // the status follows what is buffered; nothing more is queued behind it
      drop: (details) => end(grpc.status.RESOURCE_EXHAUSTED, details),
    });
    const closed = () => this.#remove(subscriber);
    call.on('cancelled', closed);
    call.on('close', closed);
  }

  /**
   * An `EventStream` of the evaluation service: `provider_ready` now, then `configuration_change`
   * with the keys of the flags of its selection that changed, and `keep_alive` every 20 s; in
   * protobuf over gRPC, or in `encoding` over the Connect streaming protocol (`connect-events`).
   */
  addGrpcEvents(
    call: GrpcServerStream,
    selector: Selector,
    transport: 'grpc-events' | 'connect-events' | 'grpc-web-events' = 'grpc-events',
    encoding: EventEncoding = PROTO_EVENTS,
  ): void {
    let pending = 0;
    let last: string | undefined;
    const write = (message: Uint8Array, written: (error?: Error | null) => void) => {
      pending += message.length;
      call.write(message, (error) => {
        pending -= message.length;
        written(error);
      });
    };
    const subscriber = this.#subscriber(transport, selector, {
      send: (written) => {
        const json = this.#flags.json(selector);
        const message =
          last === undefined ? encoding.ready : this.#changeMessage(encoding, last, json);
        last = json;
        if (message === null) written();
        else write(message, written);
      },
      end: (code, details) => call.end(code, details),
      buffered: () => pending,
      drop: () => call.reset(), // a status would wait behind what the client does not read
      keepAlive: () => write(encoding.keepAlive, () => {}),
    });
    call.onClose(() => this.#remove(subscriber));
    this.#keepAlive ??= setInterval(() => this.#keepAliveAll(), this.#keepAliveMs).unref();
  }

  /** The `configuration_change` from one JSON of a selection to the next, once per broadcast. */
  #changeMessage(encoding: EventEncoding, from: string, to: string): Uint8Array | null {
    let byTo = this.#changes.get(encoding);
    if (byTo === undefined) this.#changes.set(encoding, (byTo = new Map()));
    let byFrom = byTo.get(to);
    if (byFrom === undefined) byTo.set(to, (byFrom = new Map()));
    let message = byFrom.get(from);
    if (message === undefined) {
      const flags = changedFlags(from, to);
      message =
        Object.keys(flags).length === 0
          ? null
          : encoding.encode({ type: 'configuration_change', data: { flags } });
      byFrom.set(from, message);
    }
    return message;
  }

  #keepAliveAll(): void {
    let events = 0;
    for (const subscriber of this.#open) {
      if (subscriber.keepAlive === undefined) continue;
      events++;
      if (subscriber.buffered() > this.#maxBufferBytes) this.#overflow(subscriber);
      else
        try {
          subscriber.keepAlive();
        } catch (error) {
          this.#fail(subscriber, error);
        }
    }
    if (events === 0) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  /** An SSE stream: sync snapshots (`sse`), or OFREP's re-fetch notifications (`ofrep-sse`). */
  addSse(res: ServerResponse, selector: Selector, kind: 'sse' | 'ofrep-sse'): void {
    // HTTP/2 forbids connection headers: the stream is the connection's to keep
    const http2 = 'stream' in res;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      ...(http2 ? {} : { Connection: 'keep-alive' }),
      ...(kind === 'ofrep-sse' ? { 'Access-Control-Allow-Origin': '*' } : {}),
    });
    // an OFREP stream only announces changes; a comment tells the client it is connected
    let first = kind === 'ofrep-sse';
    const subscriber = this.#subscriber(kind, selector, {
      send: (written) => {
        res.write(
          kind === 'sse' ? this.#flags.sseEvent(selector) : first ? ': connected\n\n' : REFETCH,
          written,
        );
        first = false;
      },
      end: () => res.end(),
      buffered: () => res.writableLength,
      drop: () => res.destroy(), // ending would wait for the client to read what is buffered
    });
    res.on('close', () => this.#remove(subscriber));
  }

  /** Sends every subscriber whose selection changed what it serves. */
  broadcast(): void {
    this.#changes.clear();
    for (const subscriber of this.#open) {
      try {
        const json = this.#flags.json(subscriber.selector);
        if (json === subscriber.sent) {
          this.#unchanged(subscriber);
          continue;
        }
        if (subscriber.buffered() > this.#maxBufferBytes) {
          this.#overflow(subscriber);
          continue;
        }
        this.#send(subscriber, json);
      } catch (error) {
        this.#fail(subscriber, error);
      }
    }
    this.#changes.clear();
  }

  /**
   * Ends every stream. gRPC streams end with UNAVAILABLE, not OK: every flagd client retries on it,
   * while the published JS provider ignores a stream that ends with OK and stays disconnected.
   */
  endAll(): void {
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    for (const subscriber of [...this.#open]) {
      this.#remove(subscriber);
      subscriber.end(grpc.status.UNAVAILABLE, 'the flag server is shutting down');
    }
  }

  /**
   * How many open streams are up to date with `version`, in all and by transport.
   * @example
   * const { sent, pending } = subscribers.delivery(flags.version);
   */
  delivery(version: number): Delivery {
    const transports: Record<Transport, { streams: number; sent: number }> = {
      grpc: { streams: 0, sent: 0 },
      sse: { streams: 0, sent: 0 },
      'ofrep-sse': { streams: 0, sent: 0 },
      'grpc-events': { streams: 0, sent: 0 },
      'connect-events': { streams: 0, sent: 0 },
      'grpc-web-events': { streams: 0, sent: 0 },
    };
    let sent = 0;
    for (const subscriber of this.#open) {
      const counts = transports[subscriber.transport];
      counts.streams++;
      if (subscriber.delivered >= version) {
        counts.sent++;
        sent++;
      }
    }
    const streams = this.#open.size;
    return {
      version,
      current: this.#flags.version,
      streams,
      sent,
      pending: streams - sent,
      transports,
    };
  }

  /**
   * Resolves with {@link delivery} as soon as every open stream is up to date with `version`
   * (streams closing meanwhile no longer count; streams opening meanwhile do), or after
   * `timeoutMs` with the delivery then. It never rejects and never keeps the process alive.
   */
  whenDelivered(version: number, timeoutMs: number): Promise<Delivery> {
    let lagging = 0;
    for (const subscriber of this.#open) if (subscriber.delivered < version) lagging++;
    if (lagging === 0) return Promise.resolve(this.delivery(version));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        version,
        lagging,
        settle: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(this.delivery(version));
        },
      };
      const delay = Math.min(Math.max(0, timeoutMs || 0), 2 ** 31 - 1);
      const timer = setTimeout(waiter.settle, delay);
      timer.unref();
      this.#waiters.add(waiter);
    });
  }

  /** Sends a new stream its first message, then registers it; throws (unregistered) if that fails. */
  #subscriber(transport: Transport, selector: Selector, io: StreamIo): Subscriber {
    const subscriber: Subscriber = {
      transport,
      selector,
      sent: '',
      writes: 0,
      written: 0,
      covered: -1,
      delivered: -1,
      ...io,
    };
    this.#send(subscriber, this.#flags.json(selector));
    this.#open.add(subscriber);
    this.#metrics.streams(transport, 1);
    for (const waiter of this.#waiters) if (subscriber.delivered < waiter.version) waiter.lagging++;
    return subscriber;
  }

  /** Writes a stream its current message, noting the version it carries. */
  #send(subscriber: Subscriber, json: string): void {
    const version = this.#flags.version;
    const write = ++subscriber.writes;
    subscriber.covered = version;
    subscriber.send((error) => {
      if (error !== undefined && error !== null) return; // the stream fails and closes
      subscriber.written = Math.max(subscriber.written, write);
      // with a newer message still in flight, only this one's version is known delivered
      const done = subscriber.written === subscriber.writes;
      this.#deliver(subscriber, done ? subscriber.covered : version);
    });
    subscriber.sent = json;
  }

  /** Nothing to send: the stream's last message also carries this version once handed on. */
  #unchanged(subscriber: Subscriber): void {
    subscriber.covered = this.#flags.version;
    if (subscriber.written === subscriber.writes) this.#deliver(subscriber, subscriber.covered);
  }

  /** Raises a stream's delivered version (never lowers it) and settles waits it completes. */
  #deliver(subscriber: Subscriber, version: number): void {
    const before = subscriber.delivered;
    if (version <= before) return;
    subscriber.delivered = version;
    if (!this.#open.has(subscriber)) return; // not yet registered, or gone: not counted
    for (const waiter of this.#waiters) {
      if (before < waiter.version && version >= waiter.version && --waiter.lagging === 0)
        waiter.settle();
    }
  }

  #remove(subscriber: Subscriber): void {
    if (!this.#open.delete(subscriber)) return;
    this.#metrics.streams(subscriber.transport, -1);
    for (const waiter of this.#waiters) {
      if (subscriber.delivered < waiter.version && --waiter.lagging === 0) waiter.settle();
    }
  }

  /** A stream's client stopped reading: it alone is closed before it buffers more. */
  #overflow(subscriber: Subscriber): void {
    this.#remove(subscriber);
    const details = `the client has not read ${subscriber.buffered()} bytes, over the limit of ${this.#maxBufferBytes} (maxStreamBufferBytes)`;
    this.#logger.warn(`flag server: closing a ${subscriber.transport} stream: ${details}`);
    try {
      subscriber.drop(`the flag server closed this stream: ${details}`);
    } catch {
      // the stream is gone already
    }
  }

  /** One stream failed: it alone is closed, with INTERNAL for gRPC. */
  #fail(subscriber: Subscriber, error: unknown): void {
    this.#remove(subscriber);
    const message = error instanceof Error ? error.message : String(error);
    this.#logger.warn(`flag server: closing a ${subscriber.transport} stream: ${message}`);
    try {
      subscriber.end(
        grpc.status.INTERNAL,
        `the flag server could not send this stream: ${message}`,
      );
    } catch {
      // the stream is gone already
    }
  }
}
