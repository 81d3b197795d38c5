import type { ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { ServerMetrics } from './metrics.js';
import { selectorKey, type Selector } from './selector.js';
import type { ServedFlags } from './served-flags.js';
import type { SyncCall } from './sync-service.js';

const REFETCH = 'event: message\ndata: {"type":"refetchEvaluation"}\n\n';

/**
 * Everyone subscribed to changes: gRPC sync streams, SSE sync streams and OFREP notification
 * streams, each with its selection. A change reaches only those whose selection changed, with the
 * message encoded once per selection.
 * @internal
 */
export class Subscribers {
  readonly #flags: ServedFlags;
  readonly #metrics: ServerMetrics;
  readonly #grpc = new Map<SyncCall, Selector>();
  readonly #sse = new Map<ServerResponse, Selector>();
  readonly #ofrep = new Map<ServerResponse, Selector>();
  /** The JSON each selection last received. */
  readonly #sent = new Map<string, string>();

  constructor(flags: ServedFlags, metrics: ServerMetrics) {
    this.#flags = flags;
    this.#metrics = metrics;
  }

  /** A `SyncFlags` stream: the current snapshot now, and every change of its selection. */
  addGrpc(call: SyncCall, selector: Selector): void {
    this.#grpc.set(call, selector);
    this.#metrics.streams('grpc', 1);
    this.#sent.set(selectorKey(selector), this.#flags.json(selector));
    const closed = () => {
      if (this.#grpc.delete(call)) this.#metrics.streams('grpc', -1);
    };
    call.on('cancelled', closed);
    call.on('close', closed);
    call.write(this.#flags.syncBytes(selector));
  }

  /** An SSE stream: sync snapshots (`sse`), or OFREP's re-fetch notifications (`ofrep-sse`). */
  addSse(res: ServerResponse, selector: Selector, kind: 'sse' | 'ofrep-sse'): void {
    const into = kind === 'sse' ? this.#sse : this.#ofrep;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      ...(kind === 'ofrep-sse' ? { 'Access-Control-Allow-Origin': '*' } : {}),
    });
    into.set(res, selector);
    this.#metrics.streams(kind, 1);
    this.#sent.set(selectorKey(selector), this.#flags.json(selector));
    res.on('close', () => {
      if (into.delete(res)) this.#metrics.streams(kind, -1);
    });
    // an OFREP stream only announces changes; a comment tells the client it is connected
    res.write(kind === 'sse' ? this.#flags.sseEvent(selector) : ': connected\n\n');
  }

  /** Sends every subscriber whose selection changed what it serves. */
  broadcast(): void {
    const changed = new Map<string, boolean>();
    const hasChanged = (selector: Selector): boolean => {
      const key = selectorKey(selector);
      let result = changed.get(key);
      if (result === undefined) {
        const json = this.#flags.json(selector);
        result = this.#sent.get(key) !== json;
        this.#sent.set(key, json);
        changed.set(key, result);
      }
      return result;
    };
    for (const [call, selector] of this.#grpc)
      if (hasChanged(selector)) call.write(this.#flags.syncBytes(selector));
    for (const [res, selector] of this.#sse)
      if (hasChanged(selector)) res.write(this.#flags.sseEvent(selector));
    for (const [res, selector] of this.#ofrep) if (hasChanged(selector)) res.write(REFETCH);
  }

  /**
   * Ends every stream. gRPC streams end with UNAVAILABLE, not OK: every flagd client retries on it,
   * while the published JS provider ignores a stream that ends with OK and stays disconnected.
   */
  endAll(): void {
    const goingAway = {
      code: grpc.status.UNAVAILABLE,
      details: 'the flag server is shutting down',
    };
    for (const call of this.#grpc.keys()) call.emit('error', goingAway);
    for (const res of [...this.#sse.keys(), ...this.#ofrep.keys()]) res.end();
    this.#grpc.clear();
    this.#sse.clear();
    this.#ofrep.clear();
  }
}
