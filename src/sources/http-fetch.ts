/**
 * One poll of an HTTP flag source: a GET with the validator of the last answer, a deadline, a
 * bounded body and no redirects. Every failure is an `Error` naming what went wrong, never a
 * header's value (the `Authorization` header carries a credential).
 * @internal
 */

/** What one poll brought back. @internal */
export type Fetched =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'body'; readonly text: string; readonly etag: string | undefined };

/** One poll's request. @internal */
export interface FetchRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The whole exchange, body included, must end within this. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Aborts the request (the source is stopping). */
  readonly signal: AbortSignal;
}

/** A network failure's own words: undici says "fetch failed" and puts the reason in `cause`. */
function networkProblem(error: unknown): string {
  const { message, cause } = error as {
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const reason = cause?.code ?? cause?.message;
  return reason === undefined ? String(message ?? error) : `${message}: ${reason}`;
}

/** The body as UTF-8 text, refusing more than `maxBytes` without buffering past it. @internal */
export async function boundedText(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`the body is ${declared} bytes, over the limit of ${maxBytes}`);
  }
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`the body is over the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new Error('the body is not UTF-8 text');
  }
}

/**
 * GETs `request.url`. Resolves with `unchanged` on 304 and with the body on a 2xx; rejects on
 * anything else: a network failure, no answer within the deadline, another status, a redirect
 * (followed, it could carry the credential elsewhere: give the final URL), or a body too large.
 * @internal
 */
export async function fetchConfiguration(request: FetchRequest): Promise<Fetched> {
  const { url, headers, timeoutMs, maxBytes, signal } = request;
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await fetch(url, {
      headers,
      redirect: 'manual',
      signal: controller.signal,
    });
    if (res.status === 304) {
      await res.body?.cancel();
      return { kind: 'unchanged' };
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      throw new Error(
        `redirected (HTTP ${res.status})${location ? ` to ${location}` : ''}: give the final URL`,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const text = await boundedText(res, maxBytes);
    return { kind: 'body', text, etag: res.headers.get('etag') ?? undefined };
  } catch (error) {
    if (timedOut) throw new Error(`no answer within ${timeoutMs} ms`, { cause: error });
    if (signal.aborted) throw new Error('stopped', { cause: error });
    if ((error as Error).name === 'TypeError') throw new Error(networkProblem(error));
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
}
