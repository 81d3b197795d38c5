import { createHash } from 'node:crypto';
import { DEFAULT_LIMITS } from '../evaluator/load.js';
import { textDepth } from '../evaluator/json-limits.js';
import { yamlDepth } from '../evaluator/yaml-depth.js';
import { backoffDelay } from './backoff.js';
import { asError, deliver, report } from './deliver.js';
import type { FlagSource, FlagSourceSink } from './flag-source.js';
import { fetchConfiguration, type Fetched } from './http-fetch.js';

/** Options of {@link HttpFlagSource}: flagd's `http` sync, with its defaults. */
export interface HttpFlagSourceOptions {
  /** Time between polls, in ms. Default 5000 (flagd's `interval`, 5 s). */
  readonly intervalMs?: number;
  /**
   * The whole `Authorization` header (`Bearer <token>`, `Basic <base64>`): flagd's `authHeader`.
   * Never logged.
   */
  readonly authHeader?: string;
  /** Sent as `Authorization: Bearer <token>`: flagd's `bearerToken`. Not with `authHeader`. Never logged. */
  readonly bearerToken?: string;
  /** Time for a whole poll, body included, in ms. Default 10 000 (flagd's HTTP client timeout). */
  readonly timeoutMs?: number;
  /** The largest body taken, in bytes. Default 16 MiB (the evaluator's configuration limit). */
  readonly maxBytes?: number;
  /** The deepest nesting taken, counted before parsing. Default 128 (the evaluator's). */
  readonly maxDepth?: number;
  /** The longest wait between polls after failures (the wait doubles from `intervalMs`). Default 60 000. */
  readonly retryBackoffMaxMs?: number;
  /** Injected for tests: the jitter of the backoff. */
  readonly random?: () => number;
}

/** An `Error` about `url`, saying the last good flags stay. */
const problemAt = (url: string, error: unknown) =>
  new Error(`HTTP sync ${url}: ${asError(error).message}; serving the last good flags`, {
    cause: error,
  });

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64');

/** The Authorization header the options give; throws (without echoing it) when it cannot be sent. */
function authorizationOf(options: HttpFlagSourceOptions): string | undefined {
  const { authHeader, bearerToken } = options;
  if (authHeader !== undefined && bearerToken !== undefined)
    throw new RangeError('HttpFlagSource: give authHeader or bearerToken, not both');
  const value = authHeader ?? (bearerToken === undefined ? undefined : `Bearer ${bearerToken}`);
  // eslint-disable-next-line no-control-regex
  if (value !== undefined && /[\u0000-\u001f\u007f]/.test(value))
    throw new RangeError('HttpFlagSource: the authorization has a control character (a newline?)');
  return value;
}

/**
 * flagd's `http` sync: a flag configuration (JSON or YAML) polled every `intervalMs` with
 * `If-None-Match`, so an unchanged configuration costs a 304. A failed poll (no answer in time, an
 * error status, a redirect, a body too large or too deep, a configuration that does not load) is
 * reported as an error while the last good flags stay in service, and polls back off (doubling,
 * jittered, up to `retryBackoffMaxMs`) until one succeeds. The first poll must succeed: `start`
 * rejects otherwise. A timer never throws. Credentials go in the `Authorization` header only, and
 * never into an error.
 *
 * @example
 * const source = new HttpFlagSource('https://flags.internal/flags.json', {
 *   bearerToken: process.env.FLAGS_TOKEN,
 *   intervalMs: 10_000,
 * });
 * await OpenFeature.setProviderAndWait(new FlagdProvider({ source }));
 */
export class HttpFlagSource implements FlagSource {
  readonly url: string;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #maxDepth: number;
  readonly #backoffMaxMs: number;
  readonly #random: () => number;
  readonly #headers: Readonly<Record<string, string>>;
  #sink: FlagSourceSink | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = new AbortController();
  #polling: Promise<void> = Promise.resolve();
  /** The validator and digest of the last body processed, whether it loaded (`#taken`) or not. */
  #etag: string | undefined;
  #digest: string | undefined;
  #taken = false;
  /** The last configuration delivered, to deliver again when a poll succeeds after a failure. */
  #good: string | undefined;
  #failures = 0;
  #reported: string | undefined;

  constructor(url: string, options: HttpFlagSourceOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new RangeError(`HttpFlagSource: "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new RangeError(
        `HttpFlagSource: ${parsed.protocol} URLs are not polled (http or https)`,
      );
    if (parsed.username !== '' || parsed.password !== '')
      throw new RangeError(
        'HttpFlagSource: credentials in the URL would be logged; give authHeader instead',
      );
    for (const key of ['intervalMs', 'timeoutMs', 'maxBytes', 'maxDepth'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isFinite(value) && value > 0))
        throw new RangeError(`HttpFlagSource: ${key} is ${value}, not a positive number`);
    }
    this.url = url;
    this.#intervalMs = options.intervalMs ?? 5000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxBytes;
    this.#maxDepth = options.maxDepth ?? DEFAULT_LIMITS.maxDepth;
    this.#backoffMaxMs = Math.max(options.retryBackoffMaxMs ?? 60_000, this.#intervalMs);
    this.#random = options.random ?? Math.random;
    const authorization = authorizationOf(options);
    this.#headers = {
      Accept: 'application/json, application/yaml;q=0.9, */*;q=0.1',
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    };
  }

  async start(sink: FlagSourceSink): Promise<void> {
    this.#stopping = new AbortController();
    let fetched: Fetched;
    try {
      fetched = await this.#fetch(undefined);
      if (fetched.kind === 'unchanged') throw new Error('a 304 to a GET without If-None-Match');
      const tooDeep = this.#tooDeep(fetched.text);
      if (tooDeep !== undefined) throw tooDeep;
    } catch (error) {
      throw new Error(`HTTP sync ${this.url}: ${asError(error).message}`, { cause: error });
    }
    const problem = deliver(sink, fetched.text);
    if (problem !== undefined) throw problem; // a configuration that does not load fails the start
    this.#remember(fetched, sha256(fetched.text), true);
    this.#good = fetched.text;
    this.#sink = sink;
    this.#schedule(this.#intervalMs);
  }

  async stop(): Promise<void> {
    this.#sink = undefined;
    clearTimeout(this.#timer);
    this.#stopping.abort();
    await this.#polling;
  }

  #fetch(etag: string | undefined): Promise<Fetched> {
    return fetchConfiguration({
      url: this.url,
      headers: etag === undefined ? this.#headers : { ...this.#headers, 'If-None-Match': etag },
      timeoutMs: this.#timeoutMs,
      maxBytes: this.#maxBytes,
      signal: this.#stopping.signal,
    });
  }

  #schedule(delay: number): void {
    if (this.#sink === undefined) return;
    this.#timer = setTimeout(() => {
      // never throws: whatever escapes #poll is reported, and polling goes on
      this.#polling = this.#poll()
        .catch((error: unknown) => this.#fail(problemAt(this.url, error)))
        .then(() => this.#schedule(this.#nextDelay()));
    }, delay);
    this.#timer.unref();
  }

  #nextDelay(): number {
    if (this.#failures === 0) return this.#intervalMs;
    return backoffDelay(this.#failures, this.#intervalMs, this.#backoffMaxMs, this.#random);
  }

  async #poll(): Promise<void> {
    let fetched: Fetched;
    try {
      fetched = await this.#fetch(this.#etag);
    } catch (error) {
      if (this.#sink === undefined) return; // stopped meanwhile
      this.#failures++;
      this.#fail(problemAt(this.url, error));
      return;
    }
    const sink = this.#sink;
    if (sink === undefined) return;
    if (fetched.kind === 'unchanged') {
      this.#failures = 0;
      // back after a failure with what loaded last: say so (a provider in ERROR is READY again)
      if (this.#reported !== undefined && this.#taken && this.#good !== undefined)
        this.#deliver(sink, this.#good);
      return;
    }
    const digest = sha256(fetched.text);
    if (digest === this.#digest && this.#reported === undefined) {
      this.#failures = 0;
      this.#etag = fetched.etag;
      return; // the same configuration, without a validator
    }
    const tooDeep = this.#tooDeep(fetched.text);
    const taken = tooDeep === undefined && this.#deliver(sink, fetched.text);
    if (tooDeep !== undefined) this.#fail(problemAt(this.url, tooDeep));
    this.#failures = taken ? 0 : this.#failures + 1;
    this.#remember(fetched, digest, taken);
  }

  /** Delivers `text`; whether it loaded (if not, the error is reported). */
  #deliver(sink: FlagSourceSink, text: string): boolean {
    const problem = deliver(sink, text);
    if (problem !== undefined) {
      this.#fail(problemAt(this.url, problem));
      return false;
    }
    this.#good = text;
    this.#reported = undefined;
    return true;
  }

  #remember(fetched: Extract<Fetched, { kind: 'body' }>, digest: string, taken: boolean): void {
    this.#etag = fetched.etag;
    this.#digest = digest;
    this.#taken = taken;
  }

  /** Why `text` is refused before it is parsed (nested too deep), or undefined. */
  #tooDeep(text: string): Error | undefined {
    const first = text.trimStart()[0];
    const depth = first === '{' || first === '[' ? textDepth(text) : yamlDepth(text);
    return depth <= this.#maxDepth
      ? undefined
      : new Error(`the body is nested ${depth} levels deep, over the limit of ${this.#maxDepth}`);
  }

  /** Reports `error`, unless it is the one reported last (a failing server is not reported at every poll). */
  #fail(error: Error): void {
    if (error.message === this.#reported) return;
    this.#reported = error.message;
    report(this.#sink, error);
  }
}
