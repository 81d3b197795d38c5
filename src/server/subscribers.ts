import type { ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@openfeature/core';
import type { ServerMetrics } from './metrics.js';
import type { Selector } from './selector.js';
import type { ServedFlags } from './served-flags.js';
import type { SyncCall } from './sync-service.js';

/** The default of `ServerLimits.maxStreamBufferBytes`: 16 MiB. @internal */
export const DEFAULT_MAX_STREAM_BUFFER_BYTES = 16 * 1024 * 1024;

const REFETCH = 'event: message\ndata: {"type":"refetchEvaluation"}\n\n';

type Transport = 'grpc' | 'sse' | 'ofrep-sse';

/** What a subscriber does with its stream. */
interface StreamIo {
  send(): void;
  end(code: grpc.status, details: string): void;
  /** Bytes written to the stream that its client has not taken yet. */
  buffered(): number;
  /** Closes a stream whose client stopped reading, freeing what it buffered where it can. */
  drop(details: string): void;
}

/** One open stream: how to send it its selection, and the JSON it last received. */
interface Subscriber extends StreamIo {
  readonly transport: Transport;
  readonly selector: Selector;
  /** What this stream last received; compared by identity (ServedFlags keeps unchanged JSON's). */
  sent: string;
}

/**
 * Everyone subscribed to changes: gRPC sync streams, SSE sync streams and OFREP notification
 * streams, each with its selection. A change reaches only those whose selection changed, with the
 * message encoded once per selection. A stream is registered only once its first message is
 * written, and a stream that fails is closed alone: the others still get every change. A stream
 * whose client stops reading is closed once more than `maxBufferBytes` wait in it (gRPC with
 * RESOURCE_EXHAUSTED), so a stuck client cannot make the server hold every snapshot.
 * @internal
 */
export class Subscribers {
  readonly #flags: ServedFlags;
  readonly #metrics: ServerMetrics;
  readonly #logger: Logger;
  readonly #open = new Set<Subscriber>();
  readonly #maxBufferBytes: number;

  constructor(
    flags: ServedFlags,
    metrics: ServerMetrics,
    logger: Logger,
    maxBufferBytes = DEFAULT_MAX_STREAM_BUFFER_BYTES,
  ) {
    this.#flags = flags;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#maxBufferBytes = maxBufferBytes;
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
      send: () => {
        const bytes = this.#flags.syncBytes(selector);
        pending += bytes.length;
        call.write(bytes, () => (pending -= bytes.length));
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

  /** An SSE stream: sync snapshots (`sse`), or OFREP's re-fetch notifications (`ofrep-sse`). */
  addSse(res: ServerResponse, selector: Selector, kind: 'sse' | 'ofrep-sse'): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      ...(kind === 'ofrep-sse' ? { 'Access-Control-Allow-Origin': '*' } : {}),
    });
    // an OFREP stream only announces changes; a comment tells the client it is connected
    let first = kind === 'ofrep-sse';
    const subscriber = this.#subscriber(kind, selector, {
      send: () => {
        res.write(
          kind === 'sse' ? this.#flags.sseEvent(selector) : first ? ': connected\n\n' : REFETCH,
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
    for (const subscriber of this.#open) {
      try {
        const json = this.#flags.json(subscriber.selector);
        if (json === subscriber.sent) continue;
        if (subscriber.buffered() > this.#maxBufferBytes) {
          this.#overflow(subscriber);
          continue;
        }
        subscriber.send();
        subscriber.sent = json;
      } catch (error) {
        this.#fail(subscriber, error);
      }
    }
  }

  /**
   * Ends every stream. gRPC streams end with UNAVAILABLE, not OK: every flagd client retries on it,
   * while the published JS provider ignores a stream that ends with OK and stays disconnected.
   */
  endAll(): void {
    for (const subscriber of [...this.#open]) {
      this.#remove(subscriber);
      subscriber.end(grpc.status.UNAVAILABLE, 'the flag server is shutting down');
    }
  }

  /** Sends a new stream its first message, then registers it; throws (unregistered) if that fails. */
  #subscriber(transport: Transport, selector: Selector, io: StreamIo): Subscriber {
    const sent = this.#flags.json(selector);
    io.send();
    const subscriber: Subscriber = { transport, selector, sent, ...io };
    this.#open.add(subscriber);
    this.#metrics.streams(transport, 1);
    return subscriber;
  }

  #remove(subscriber: Subscriber): void {
    if (this.#open.delete(subscriber)) this.#metrics.streams(subscriber.transport, -1);
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
