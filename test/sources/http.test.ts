import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlagdProvider, HttpFlagSource, type HttpFlagSourceOptions } from 'rampflag';
import type { FlagSourceSink } from '../../src/sources/flag-source.js';
import { clientFor, until } from '../support/provider-events.js';

afterAll(() => OpenFeature.close());

const flags = (color: string) =>
  JSON.stringify({
    flags: { color: { state: 'ENABLED', variants: { c: color, x: 'x' }, defaultVariant: 'c' } },
  });

/** What the test server answers next; change it mid-test. */
interface Answer {
  status: number;
  body: string;
  etag?: string | undefined;
  /** Send the body in chunks without a Content-Length. */
  chunked?: boolean;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
  headers?: Record<string, string>;
}

/** A loopback flag server that honours If-None-Match and records each request. */
class FlagsHttpServer {
  answer: Answer = { status: 200, body: flags('red'), etag: '"v1"' };
  readonly requests: { headers: IncomingHttpHeaders; status: number; at: number }[] = [];
  readonly #server: Server = createServer((req, res) => this.#handle(req.headers, res));
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/flags.json`;
    return this;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #handle(headers: IncomingHttpHeaders, res: ServerResponse): void {
    const { status, body, etag, chunked, hang } = this.answer;
    const notModified = status === 200 && etag !== undefined && headers['if-none-match'] === etag;
    this.requests.push({ headers, status: notModified ? 304 : status, at: Date.now() });
    if (hang) return;
    const head = { ...(etag === undefined ? {} : { ETag: etag }), ...this.answer.headers };
    if (notModified) {
      res.writeHead(304, head).end();
      return;
    }
    if (!chunked) {
      res
        .writeHead(status, {
          ...head,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        })
        .end(body);
      return;
    }
    res.writeHead(status, head);
    for (let at = 0; at < body.length; at += 1024) res.write(body.slice(at, at + 1024));
    res.end();
  }
}

/** A sink that records what it is given and loads JSON the way the evaluator would refuse garbage. */
function recordingSink() {
  const configurations: string[] = [];
  const errors: Error[] = [];
  const sink: FlagSourceSink = {
    configuration(payload) {
      const text = String(payload);
      const doc = JSON.parse(text) as { flags?: unknown };
      if (typeof doc.flags !== 'object') throw new Error('no flags');
      configurations.push(text);
    },
    error: (error) => errors.push(error),
    stale: () => undefined,
  };
  return { sink, configurations, errors };
}

const fast: HttpFlagSourceOptions = { intervalMs: 20, retryBackoffMaxMs: 80, random: () => 0 };

const servers: FlagsHttpServer[] = [];
const sources: HttpFlagSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(answer?: Partial<Answer>) {
  const server = await new FlagsHttpServer().start();
  if (answer) server.answer = { ...server.answer, ...answer };
  servers.push(server);
  return server;
}

function sourceFor(url: string, options: HttpFlagSourceOptions = {}) {
  const source = new HttpFlagSource(url, { ...fast, ...options });
  sources.push(source);
  return source;
}

describe('HttpFlagSource polling', () => {
  it('delivers the first answer, then sends If-None-Match and takes 304s without delivering again', async () => {
    const server = await serve();
    const { sink, configurations } = recordingSink();
    await sourceFor(server.url).start(sink);
    await until(() => server.requests.length >= 4, 'four polls');
    expect(server.requests[0]?.headers['if-none-match']).toBeUndefined();
    expect(server.requests.slice(1).map((r) => r.headers['if-none-match'])).toEqual(
      server.requests.slice(1).map(() => '"v1"'),
    );
    expect(server.requests.slice(1).every((r) => r.status === 304)).toBe(true);
    expect(configurations).toEqual([flags('red')]);
  });

  it('delivers a changed configuration when the ETag changes', async () => {
    const server = await serve();
    const { sink, configurations } = recordingSink();
    await sourceFor(server.url).start(sink);
    server.answer = { status: 200, body: flags('blue'), etag: '"v2"' };
    await until(() => configurations.length === 2, 'the change delivered');
    expect(configurations[1]).toBe(flags('blue'));
    const polls = server.requests.length;
    await until(() => server.requests.length >= polls + 2, 'two more polls');
    expect(server.requests.at(-1)).toMatchObject({ status: 304 });
    expect(server.requests.at(-1)?.headers['if-none-match']).toBe('"v2"');
    expect(configurations).toHaveLength(2);
  });

  it('without an ETag, delivers a body only when it differs from the last one', async () => {
    const server = await serve({ etag: undefined });
    const { sink, configurations } = recordingSink();
    await sourceFor(server.url).start(sink);
    await until(() => server.requests.length >= 3, 'three polls');
    expect(configurations).toHaveLength(1);
    server.answer = { status: 200, body: flags('green') };
    await until(() => configurations.length === 2, 'the change delivered');
    expect(configurations[1]).toBe(flags('green'));
  });

  it('sends the bearer token, and the whole authHeader when given instead', async () => {
    const server = await serve();
    await sourceFor(server.url, { bearerToken: 's3cret-token' }).start(recordingSink().sink);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer s3cret-token');
    await sourceFor(server.url, { authHeader: 'Basic dXNlcjpwYXNz' }).start(recordingSink().sink);
    expect(server.requests.at(-1)?.headers.authorization).toBe('Basic dXNlcjpwYXNz');
  });
});

describe('HttpFlagSource failures: the last good flags stay, an error is reported', () => {
  it.each<[string, Partial<Answer>, RegExp]>([
    ['a 500', { status: 500, body: 'oops', etag: undefined }, /HTTP 500 Internal Server Error/],
    ['garbage', { status: 200, body: '<html>not flags</html>', etag: '"g"' }, /HTTP sync http:/],
    [
      'a body over maxBytes (declared)',
      { status: 200, body: flags('x'.repeat(5000)), etag: '"big"' },
      /the body is \d+ bytes, over the limit of 4096/,
    ],
    [
      'a body over maxBytes (chunked)',
      { status: 200, body: flags('x'.repeat(5000)), etag: '"big"', chunked: true },
      /the body is over the limit of 4096 bytes/,
    ],
    [
      'a body nested too deep',
      { status: 200, body: `{"flags":{},"x":${'['.repeat(40)}${']'.repeat(40)}}`, etag: '"d"' },
      /nested 41 levels deep, over the limit of 32/,
    ],
    [
      'a redirect',
      { status: 302, body: '', etag: undefined, headers: { Location: 'https://elsewhere/' } },
      /redirected \(HTTP 302\) to https:\/\/elsewhere\/: give the final URL/,
    ],
  ])('%s', async (_what, answer, message) => {
    const server = await serve();
    const { sink, configurations, errors } = recordingSink();
    await sourceFor(server.url, { maxBytes: 4096, maxDepth: 32 }).start(sink);
    server.answer = { ...server.answer, ...answer };
    await until(() => errors.length > 0, 'an error reported');
    expect(errors[0]?.message).toMatch(message);
    expect(errors[0]?.message).toMatch(/serving the last good flags$/);
    expect(configurations).toEqual([flags('red')]);
    const polls = server.requests.length;
    await until(() => server.requests.length >= polls + 2, 'polling goes on');
    expect(errors).toHaveLength(1); // reported once, not at every poll
    server.answer = { status: 200, body: flags('blue'), etag: '"v2"' };
    await until(() => configurations.length === 2, 'the next good configuration delivered');
  });

  it('gives up on a server that does not answer within timeoutMs', async () => {
    const server = await serve();
    const { sink, errors } = recordingSink();
    await sourceFor(server.url, { timeoutMs: 100 }).start(sink);
    server.answer = { ...server.answer, hang: true };
    await until(() => errors.length > 0, 'an error reported');
    expect(errors[0]?.message).toMatch(/no answer within 100 ms/);
  });

  it('backs off while failing, then polls at the interval again', async () => {
    const server = await serve();
    await sourceFor(server.url, { intervalMs: 20, retryBackoffMaxMs: 160 }).start(
      recordingSink().sink,
    );
    server.answer = { status: 503, body: '', etag: undefined };
    const failing = server.requests.length;
    await until(() => server.requests.length >= failing + 5, 'five failed polls', 5000);
    const at = server.requests.slice(failing).map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    // with no jitter: 20, 40, 80, 80 ms after the 1st, 2nd, 3rd and 4th failure
    expect(gaps[2]).toBeGreaterThanOrEqual(70);
    expect(gaps[2]).toBeGreaterThan(gaps[0] as number);
    server.answer = { status: 200, body: flags('red'), etag: '"v1"' };
    await until(() => server.requests.at(-1)?.status === 304, 'a good answer');
    const good = server.requests.length;
    await until(() => server.requests.length >= good + 3, 'three more polls');
    const recovered = server.requests.slice(good - 1).map((r) => r.at);
    expect(
      Math.max(...recovered.slice(1).map((t, i) => t - (recovered[i] as number))),
    ).toBeLessThan(70);
  });

  it('tells a provider: ERROR while the server fails, READY once it answers again (even a 304)', async () => {
    const server = await serve();
    const provider = new FlagdProvider({ source: sourceFor(server.url) });
    const { client, events } = await clientFor(provider);
    server.answer = { ...server.answer, status: 500 };
    await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
    expect(await client.getStringValue('color', 'default')).toBe('red');
    server.answer = { ...server.answer, status: 200 }; // answers 304: nothing changed
    await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event');
    expect(server.requests.at(-1)?.status).toBe(304);
    expect(events.filter(([e]) => e === ProviderEvents.ConfigurationChanged)).toHaveLength(0);
  });

  it('never puts the token in an error, whatever fails', async () => {
    const server = await serve();
    const { sink, errors } = recordingSink();
    const token = 'tok-9f8e7d6c5b4a';
    await sourceFor(server.url, { bearerToken: token, timeoutMs: 100 }).start(sink);
    for (const answer of [
      { status: 401, body: `bad token ${token}` },
      { status: 200, body: `garbage ${token}`, etag: '"g"' },
      { status: 200, body: flags('red'), hang: true },
    ]) {
      const seen = errors.length;
      server.answer = answer;
      await until(() => errors.length > seen, `an error for ${JSON.stringify(answer.status)}`);
    }
    await server.stop(); // connection refused
    await until(() => errors.some((e) => /ECONNREFUSED/.test(e.message)), 'a refused connection');
    const said = errors.map((e) => `${e.message} ${String((e.cause as Error)?.message)}`);
    expect(said.join('\n')).not.toContain(token);
  });

  it('keeps polling when the sink throws while told of an error', async () => {
    const server = await serve();
    const { sink, configurations } = recordingSink();
    await sourceFor(server.url).start({
      ...sink,
      error: () => {
        throw new Error('a sink that throws');
      },
    });
    server.answer = { status: 500, body: '' };
    const polls = server.requests.length;
    await until(() => server.requests.length >= polls + 3, 'polling goes on');
    server.answer = { status: 200, body: flags('blue'), etag: '"v2"' };
    await until(() => configurations.length === 2, 'the next configuration delivered');
  });
});

describe('HttpFlagSource start and stop', () => {
  it.each<[string, Partial<Answer>, RegExp]>([
    ['a 500', { status: 500, etag: undefined }, /HTTP sync http:\S+: HTTP 500/],
    ['a body too large', { body: flags('x'.repeat(5000)) }, /over the limit of 4096/],
  ])('rejects when the first poll fails: %s', async (_what, answer, message) => {
    const server = await serve(answer);
    await expect(
      sourceFor(server.url, { maxBytes: 4096 }).start(recordingSink().sink),
    ).rejects.toThrow(message);
  });

  it('rejects when the first configuration does not load, and when nothing listens', async () => {
    const server = await serve({ body: 'garbage' });
    await expect(sourceFor(server.url).start(recordingSink().sink)).rejects.toThrow();
    const url = server.url;
    await server.stop();
    servers.splice(0);
    await expect(sourceFor(url).start(recordingSink().sink)).rejects.toThrow(
      /HTTP sync http:\S+: fetch failed: ECONNREFUSED/,
    );
  });

  it('stops polling, and abandons a poll in flight, when stopped', async () => {
    const server = await serve();
    const source = sourceFor(server.url, { timeoutMs: 60_000 });
    const { sink, errors } = recordingSink();
    await source.start(sink);
    server.answer = { ...server.answer, hang: true };
    const polls = server.requests.length;
    await until(() => server.requests.length > polls, 'a poll in flight');
    const started = Date.now();
    await source.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    const after = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests.length).toBe(after);
    expect(errors).toEqual([]);
  });

  it.each<[string, HttpFlagSourceOptions, RegExp]>([
    ['ftp://host/flags.json', {}, /ftp: URLs are not polled/],
    ['not a url', {}, /"not a url" is not a URL/],
    ['https://user:pw@host/flags.json', {}, /credentials in the URL would be logged/],
    ['https://host/f', { authHeader: 'Bearer a', bearerToken: 'b' }, /not both/],
    ['https://host/f', { bearerToken: 'abc\r\nX-Evil: 1' }, /control character/],
    ['https://host/f', { intervalMs: 0 }, /intervalMs is 0, not a positive number/],
    ['https://host/f', { timeoutMs: Number.NaN }, /timeoutMs is NaN/],
  ])('refuses %s %j', (url, options, message) => {
    expect(() => new HttpFlagSource(url, options)).toThrow(message);
    try {
      new HttpFlagSource(url, options);
    } catch (error) {
      expect((error as Error).message).not.toMatch(/pw|abc/);
    }
  });
});
