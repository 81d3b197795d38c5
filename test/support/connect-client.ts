/** One message of the Connect streaming protocol: its flags byte and its bytes. */
export interface Envelope {
  readonly flags: number;
  readonly data: Buffer;
}

/** A message in Connect's (and gRPC's) envelope: flags, big-endian length, bytes. */
export function envelope(data: Uint8Array | string, flags = 0): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** Splits bytes into whole envelopes; what is left over is an incomplete one. */
export function splitEnvelopes(bytes: Buffer): { envelopes: Envelope[]; rest: Buffer } {
  const envelopes: Envelope[] = [];
  let at = 0;
  while (bytes.length - at >= 5) {
    const length = bytes.readUInt32BE(at + 1);
    if (bytes.length - at - 5 < length) break;
    envelopes.push({ flags: bytes[at] as number, data: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return { envelopes, rest: bytes.subarray(at) };
}

/**
 * A Connect server-stream call with fetch, as connect-web makes it: POST one enveloped request,
 * then read enveloped messages as they come. `messages` grows; `ended` resolves with the
 * end-of-stream message's JSON (or undefined when the body ends without one).
 */
export async function connectStream(
  url: string,
  options: { body?: Buffer; contentType?: string; headers?: Record<string, string> } = {},
) {
  const controller = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/connect+json',
      'connect-protocol-version': '1',
      ...options.headers,
    },
    body: options.body ?? envelope('{}'),
    signal: controller.signal,
  });
  const messages: Envelope[] = [];
  const ended = (async () => {
    if (res.body === null) return undefined;
    let pending: Buffer = Buffer.alloc(0);
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const { envelopes, rest } = splitEnvelopes(Buffer.concat([pending, chunk]));
        pending = rest;
        for (const one of envelopes) {
          if (one.flags === 2) return JSON.parse(one.data.toString()) as Record<string, unknown>;
          messages.push(one);
        }
      }
    } catch {
      // aborted
    }
    return undefined;
  })();
  return { res, messages, ended, cancel: () => controller.abort() };
}
