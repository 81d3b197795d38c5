import type { ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@openfeature/core';
import type { ServerMetrics } from './metrics.js';
import type { Selector } from './selector.js';
import type { ServedFlags } from './served-flags.js';
import type { SyncCall } from './sync-service.js';

const REFETCH = 'event: message\ndata: {"type":"refetchEvaluation"}\n\n';

type Transport = 'grpc' | 'sse' | 'ofrep-sse';

/** One open stream: how to send it its selection, and the JSON it last received. */
interface Subscriber {
  readonly transport: Transport;
  readonly selector: Selector;
  /** What this stream last received; compared by identity (ServedFlags keeps unchanged JSON's). */
  sent: string;
  send(): void;
  end(code: grpc.status, details: string): void;
}

/**
 * Everyone subscribed to changes: gRPC sync streams, SSE sync streams and OFREP notification
 * streams, each with its selection. A change reaches only those whose selection changed, with the
 * message encoded once per selection. A stream is registered only once its first message is
 * written, and a stream that fails is closed alone: the others still get every change.
 * @internal
 */
export class Subscribers {
  readonly #flags: ServedFlags;
  readonly #metrics: ServerMetrics;
  readonly #logger: Logger;
  readonly #open = new Set<Subscriber>();

  constructor(flags: ServedFlags, metrics: ServerMetrics, logger: Logger) {
    this.#flags = flags;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** How many streams are open. */
  get size(): number {
    return this.#open.size;
  }

  /** A `SyncFlags` stream: the current snapshot now, and every change of its selection. */
  addGrpc(call: SyncCall, selector: Selector): void {
    const subscriber = this.#subscriber('grpc', selector, {
      send: () => call.write(this.#flags.syncBytes(selector)),
      end: (code, details) => call.emit('error', { code, details }),
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
    });
    res.on('close', () => this.#remove(subscriber));
  }

  /** Sends every subscriber whose selection changed what it serves. */
  broadcast(): void {
    for (const subscriber of this.#open) {
      try {
        const json = this.#flags.json(subscriber.selector);
        if (json === subscriber.sent) continue;
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
  #subscriber(
    transport: Transport,
    selector: Selector,
    io: { send(): void; end(code: grpc.status, details: string): void },
  ): Subscriber {
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
