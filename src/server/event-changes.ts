import type { JsonObject } from '@openfeature/core';
import { encodeEventMessage, type EventMessage } from '../grpc/evaluation-wire.js';

/** flagd's change types in a `configuration_change` event (flagd-spec §d.2). @internal */
export type ChangeType = 'write' | 'update' | 'delete';

type Doc = { flags?: Record<string, unknown>; [part: string]: unknown };

function parse(json: string): Doc {
  const doc: unknown = JSON.parse(json);
  return typeof doc === 'object' && doc !== null ? (doc as Doc) : {};
}

/**
 * The flags that changed from one served configuration (JSON text) to the next, as flagd's
 * `configuration_change` data carries them: `{ key: { type } }`, `write` for an added flag,
 * `update` for a changed one, `delete` for a removed one. A change to the set's own parts (shared
 * `$evaluators`, metadata) may change every flag: each is then reported as updated. Pure.
 * @internal
 */
export function changedFlags(from: string, to: string): JsonObject {
  const [before, after] = [parse(from), parse(to)];
  const [a, b] = [before.flags ?? {}, after.flags ?? {}];
  const { flags: _a, ...restA } = before;
  const { flags: _b, ...restB } = after;
  const setChanged = JSON.stringify(restA) !== JSON.stringify(restB);
  const changes: [string, JsonObject][] = [];
  for (const key of Object.keys(b)) {
    if (!Object.hasOwn(a, key)) changes.push([key, { type: 'write' }]);
    else if (setChanged || JSON.stringify(a[key]) !== JSON.stringify(b[key]))
      changes.push([key, { type: 'update' }]);
  }
  for (const key of Object.keys(a))
    if (!Object.hasOwn(b, key)) changes.push([key, { type: 'delete' }]);
  return Object.fromEntries(changes);
}

/** How `EventStreamResponse`s are written on one kind of stream, with its fixed messages encoded once. @internal */
export interface EventEncoding {
  readonly ready: Uint8Array;
  readonly keepAlive: Uint8Array;
  encode(message: EventMessage): Uint8Array;
}

function eventEncoding(encode: (message: EventMessage) => Uint8Array): EventEncoding {
  return {
    ready: encode({ type: 'provider_ready' }),
    keepAlive: encode({ type: 'keep_alive' }),
    encode,
  };
}

/** Protobuf, as gRPC and `application/connect+proto` carry it. @internal */
export const PROTO_EVENTS = eventEncoding(encodeEventMessage);

/** Protobuf's JSON form, as `application/connect+json` carries it. @internal */
export const JSON_EVENTS = eventEncoding((message) => Buffer.from(JSON.stringify(message)));
