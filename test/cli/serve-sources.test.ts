import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { FileFlagSource, HttpFlagSource } from 'rampflag';
import { GrpcSyncSource } from 'rampflag/grpc';
import { main } from '../../src/cli/main.js';
import { parseSources, parseUri } from '../../src/cli/serve-source-config.js';
import {
  pollIntervalMs,
  refuseFlagdOnlyOptions,
  serveSources,
  sourceConfigs,
} from '../../src/cli/serve-sources.js';
import { fakeIo } from '../support/cli-io.js';
import { servePortArgs } from '../support/serve-process.js';
import { until } from '../support/provider-events.js';

const dir = mkdtempSync(join(tmpdir(), 'rampflag-serve-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

const flags = (key: string, value: string) =>
  JSON.stringify({
    flags: { [key]: { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' } },
  });

describe("--uri, by flagd's prefixes", () => {
  it.each([
    ['file:flags.json', { provider: 'file', uri: 'flags.json' }],
    ['file:/etc/flagd/flags.yaml', { provider: 'file', uri: '/etc/flagd/flags.yaml' }],
    [
      'https://flags.example/flags.json',
      { provider: 'http', uri: 'https://flags.example/flags.json' },
    ],
    ['http://127.0.0.1:8080/f', { provider: 'http', uri: 'http://127.0.0.1:8080/f' }],
    ['grpc://upstream:8015', { provider: 'grpc', uri: 'upstream:8015', tls: false }],
    ['grpcs://upstream:8015', { provider: 'grpc', uri: 'upstream:8015', tls: true }],
    [
      'envoy://proxy:9211/sync.service',
      { provider: 'grpc', uri: 'envoy://proxy:9211/sync.service', tls: false },
    ],
  ])('%s', (uri, config) => {
    expect(parseUri(uri)).toEqual(config);
  });

  it.each([
    [
      'core.openfeature.dev/default/my-flags',
      /cannot read FeatureFlag resources \(flagd's "kubernetes" provider\)/,
    ],
    ['gs://bucket/flags.json', /Google Cloud Storage \(flagd's "gcs" provider\)/],
    ['azblob://container/flags.json', /Azure Blob Storage/],
    ['s3://bucket/flags.json', /Amazon S3/],
    [
      'flags.json',
      /start it with file:, http:\/\/, https:\/\/, grpc:\/\/ or grpcs:\/\/.*as an operand/,
    ],
    ['file:', /name a file after file:/],
  ])('refuses %s', (uri, message) => {
    expect(() => parseUri(uri)).toThrow(message);
  });
});

describe("--sources, flagd's JSON array", () => {
  it("reads flagd's documented example, less the kubernetes source", () => {
    const json = JSON.stringify([
      { uri: 'config/samples/example_flags.json', provider: 'file' },
      { uri: 'http://my-flag-source.json', provider: 'http', bearerToken: 'bearer-dji34ld2l' },
      {
        uri: 'https://secure-remote/basic-auth',
        provider: 'http',
        authHeader: 'Basic dXNlcjpwYXNz',
      },
      { uri: 'grpc-source:8080', provider: 'grpc' },
      {
        uri: 'my-flag-source:8080',
        provider: 'grpc',
        certPath: '/certs/ca.cert',
        tls: true,
        providerID: 'flagd-weatherapp-sidecar',
        selector: 'source=database,app=weatherapp',
      },
      { uri: 'file:other.yaml', provider: 'fsnotify' },
      { uri: 'https://h/f.json', provider: 'http', interval: 30 },
    ]);
    expect(parseSources(json, '--sources')).toEqual([
      { provider: 'file', uri: 'config/samples/example_flags.json' },
      { provider: 'http', uri: 'http://my-flag-source.json', bearerToken: 'bearer-dji34ld2l' },
      {
        provider: 'http',
        uri: 'https://secure-remote/basic-auth',
        authHeader: 'Basic dXNlcjpwYXNz',
      },
      { provider: 'grpc', uri: 'grpc-source:8080', tls: false },
      {
        provider: 'grpc',
        uri: 'my-flag-source:8080',
        tls: true,
        certPath: '/certs/ca.cert',
        selector: 'source=database,app=weatherapp',
        providerID: 'flagd-weatherapp-sidecar',
      },
      { provider: 'file', uri: 'other.yaml' },
      { provider: 'http', uri: 'https://h/f.json', interval: 30 },
    ]);
  });

  it.each<[unknown, RegExp]>([
    [{ uri: 'x' }, /^--sources\[0\]\.provider: required$/],
    [{ provider: 'file' }, /^--sources\[0\]\.uri: required$/],
    [
      { uri: 'default/flags', provider: 'kubernetes' },
      /^--sources\[0\]\.provider: rampflag cannot read FeatureFlag resources/,
    ],
    [
      { uri: 'gs://b/f', provider: 'gcs' },
      /^--sources\[0\]\.provider: rampflag cannot read Google Cloud Storage/,
    ],
    [
      { uri: 'x', provider: 'ftp' },
      /^--sources\[0\]\.provider: "ftp" is not one of file, http, grpc$/,
    ],
    [
      { uri: 'x.json', provider: 'file', selector: 'a' },
      /^--sources\[0\]\.selector: not read by the file provider \(it reads uri, provider\)$/,
    ],
    [
      { uri: 'h:1', provider: 'grpc', maxMsgSize: 5 },
      /^--sources\[0\]\.maxMsgSize: not read by the grpc provider/,
    ],
    [
      { uri: 'https://h/f', provider: 'http', authHeader: 'Bearer a', bearerToken: 'b' },
      /authHeader and bearerToken are both set/,
    ],
    [
      { uri: 'https://h/f', provider: 'http', interval: 2.5 },
      /^--sources\[0\]\.interval: 2\.5 is not a whole number of seconds$/,
    ],
    [
      { uri: 'h:1', provider: 'grpc', tls: 'yes' },
      /^--sources\[0\]\.tls: "yes" is not true or false$/,
    ],
    [
      { uri: 'flags.json', provider: 'http' },
      /^--sources\[0\]\.uri: an http source's uri is an http:\/\/ or https:\/\/ URL$/,
    ],
    [{ uri: '', provider: 'file' }, /^--sources\[0\]\.uri: "" is not a non-empty string$/],
    ['flags.json', /^--sources\[0\]: not an object with uri and provider$/],
  ])('refuses %j, naming the JSON path', (entry, message) => {
    expect(() => parseSources(JSON.stringify([entry]), '--sources')).toThrow(message);
  });

  it('refuses text that is not a JSON array, without quoting it (it may hold a credential)', () => {
    expect(() => parseSources('{"uri": "x"}', '--sources')).toThrow(/a JSON array of/);
    let message = '';
    try {
      parseSources(
        '[{"uri":"https://h/f","provider":"http","authHeader":"Bearer s3cret"',
        'RAMPFLAG_SOURCES',
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^RAMPFLAG_SOURCES: not valid JSON/);
    expect(message).not.toContain('s3cret');
  });
});

describe('the sources of rampflag serve', () => {
  const args = { files: [] as string[], uris: [] as string[] };

  it('takes operands, then --uri, then --sources, in that order (a later source wins a flag key)', () => {
    const { configs } = sourceConfigs(
      {
        files: ['a.json'],
        uris: ['https://h/b.json', 'grpc://up:8015'],
        sources: JSON.stringify([{ uri: 'c.yaml', provider: 'file' }]),
      },
      {},
    );
    expect(configs.map((c) => c.uri)).toEqual(['a.json', 'https://h/b.json', 'up:8015', 'c.yaml']);
  });

  it('reads RAMPFLAG_SOURCES when --sources is not given, and --sources over it', () => {
    const env = { RAMPFLAG_SOURCES: JSON.stringify([{ uri: 'env.json', provider: 'file' }]) };
    expect(sourceConfigs(args, env).configs).toEqual([{ provider: 'file', uri: 'env.json' }]);
    const given = JSON.stringify([{ uri: 'argv.json', provider: 'file' }]);
    expect(sourceConfigs({ ...args, sources: given }, env).configs).toEqual([
      { provider: 'file', uri: 'argv.json' },
    ]);
    expect(() => sourceConfigs(args, { RAMPFLAG_SOURCES: '[{' })).toThrow(
      /^RAMPFLAG_SOURCES: not valid JSON/,
    );
  });

  it.each([
    [{ ...args }, /name one flag file or more, or a source with --uri or --sources/],
    [{ ...args, files: ['f.json'], uris: ['file:f.json'] }, /source "f.json" is named twice/],
  ])('refuses %j', (given, message) => {
    expect(() => sourceConfigs(given, {})).toThrow(message);
  });

  it('warns of a credential in argv, and of one sent in clear text beyond loopback', () => {
    const sources = JSON.stringify([{ uri: 'https://h/f', provider: 'http', bearerToken: 't' }]);
    expect(sourceConfigs({ ...args, sources }, {}).warnings).toEqual([
      '--sources holds a credential, and every user of this host can read argv: put the sources in RAMPFLAG_SOURCES instead',
    ]);
    expect(
      sourceConfigs({ ...args, sources }, { RAMPFLAG_SOURCES: sources }).warnings,
    ).toHaveLength(1);
    expect(sourceConfigs(args, { RAMPFLAG_SOURCES: sources }).warnings).toEqual([]);
    const env = { RAMPFLAG_SOURCE_TOKEN: 'tok' };
    expect(sourceConfigs({ ...args, uris: ['http://flags.corp/f.json'] }, env).warnings).toEqual([
      'http://flags.corp/f.json: a credential goes to flags.corp in clear text; use https://',
    ]);
    for (const uri of [
      'http://127.0.0.1:9/f',
      'http://localhost/f',
      'http://[::1]/f',
      'https://flags.corp/f',
    ])
      expect(sourceConfigs({ ...args, uris: [uri] }, env).warnings).toEqual([]);
    expect(sourceConfigs({ ...args, uris: ['http://flags.corp/f.json'] }, {}).warnings).toEqual([]);
  });

  it('builds a file, an http and a gRPC sync source, each named as flagd names it', () => {
    const { sources, firstFile } = serveSources(
      { files: [], uris: ['https://h/f.json', 'file:flags.json', 'grpc://[::1]:9000'] },
      {},
    );
    expect(sources.map((s) => s.name)).toEqual(['https://h/f.json', 'flags.json', '[::1]:9000']);
    expect(sources[0]?.source).toBeInstanceOf(HttpFlagSource);
    expect(sources[1]?.source).toBeInstanceOf(FileFlagSource);
    expect(sources[2]?.source).toBeInstanceOf(GrpcSyncSource);
    expect(firstFile).toBe('flags.json');
  });

  it.each([
    ['grpc://up:8015/path', /grpc source "up:8015\/path": give host:port/],
    ['grpc://up:8015?selector=x', /a selector or provider id goes in --sources/],
  ])('refuses the gRPC URI %s', (uri, message) => {
    expect(() => serveSources({ files: [], uris: [uri] }, {})).toThrow(message);
  });

  it.each([
    [undefined, 5000],
    ['10', 10_000],
    ['250ms', 250],
    ['1m', 60_000],
  ])('--poll-interval %s is %d ms', (value, ms) => {
    expect(pollIntervalMs(value)).toBe(ms);
  });

  it.each(['fast', '50ms', '0', '-1'])('refuses --poll-interval %s', (value) => {
    expect(() => pollIntervalMs(value)).toThrow(
      /--poll-interval: ".*" is not a duration of 100ms or more/,
    );
  });

  it.each([
    [
      ['--bearer-token', 'abc123'],
      /--bearer-token: a token never goes in argv.*RAMPFLAG_SOURCE_TOKEN/,
    ],
    [['--bearer-token=abc123'], /--bearer-token: a token never goes in argv/],
    [['--sync-provider-args', 'interval=10'], /--sync-provider-args: flagd removed it/],
    [['--sync-provider', 'remote'], /--sync-provider: flagd removed it/],
  ])("refuses flagd's %j, saying what to use", (argv, message) => {
    expect(() => refuseFlagdOnlyOptions(argv)).toThrow(message);
    try {
      refuseFlagdOnlyOptions(argv);
    } catch (error) {
      expect((error as Error).message).not.toContain('abc123');
    }
  });
});

/** A loopback server of one flag file, with an ETag, recording each request's headers. */
async function flagsOverHttp(body: () => string, status = () => 200) {
  const requests: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.headers);
    const text = body();
    const etag = `"${text.length}-${text.charCodeAt(text.length - 3)}"`;
    if (status() === 200 && req.headers['if-none-match'] === etag)
      return void res.writeHead(304).end();
    res.writeHead(status(), { ETag: etag, 'Content-Type': 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/flags.json`;
  return {
    url,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('rampflag serve --uri', () => {
  it('serves a file and an https-style source merged, refuses admin writes to the URL, and never prints the token', async () => {
    const token = 'src-token-5e4d3c2b1a';
    vi.stubEnv('RAMPFLAG_SOURCE_TOKEN', token);
    let remote = flags('banner', 'from-http');
    let status = 200;
    const upstream = await flagsOverHttp(
      () => remote,
      () => status,
    );
    const file = join(dir, 'local.json');
    writeFileSync(file, flags('checkout', 'local'));
    const { io, out, err, stop } = fakeIo();
    const running = main(
      ['serve', file, '--uri', upstream.url, '--poll-interval', '100ms', ...servePortArgs()],
      io,
    );
    try {
      await until(() => out.length > 0 || err.length > 0, 'the banner', 10_000);
      expect(out[0]).toContain(`rampflag serving ${file}, ${upstream.url}: sync (gRPC)`);
      expect(upstream.requests[0]?.authorization).toBe(`Bearer ${token}`);
      const ofrep = /OFREP (http:\/\/[\d.:]+)/.exec(out[0] ?? '')?.[1];
      const management = /management (http:\/\/[\d.:]+)/.exec(out[0] ?? '')?.[1];
      const values = async () => {
        const res = await fetch(`${ofrep}/ofrep/v1/evaluate/flags`, { method: 'POST' });
        const body = (await res.json()) as { flags: { key: string; value: unknown }[] };
        return Object.fromEntries(body.flags.map((f) => [f.key, f.value]));
      };
      expect(await values()).toEqual({ checkout: 'local', banner: 'from-http' });
      remote = flags('banner', 'changed');
      await until(() => upstream.requests.length >= 3, 'polls');
      await expect
        .poll(values, { timeout: 5000 })
        .toEqual({ checkout: 'local', banner: 'changed' });
      const patched = await fetch(
        `${management}/admin/flags?source=${encodeURIComponent(upstream.url)}`,
        { method: 'PATCH', body: JSON.stringify({ flags: { banner: { defaultVariant: 'v' } } }) },
      );
      expect(patched.status).toBe(405);
      expect(await patched.text()).toMatch(/cannot be written/);
      const killed = await fetch(`${management}/admin/flags/banner/kill`, {
        method: 'POST',
        body: '{}',
      });
      expect(killed.status).toBe(409);
      status = 500; // the upstream fails: logged, the last good flags stay
      await until(() => err.some((l) => /HTTP 500/.test(l)), 'the failure logged');
      expect(await values()).toEqual({ checkout: 'local', banner: 'changed' });
    } finally {
      stop();
      expect(await running).toBe(0);
      await upstream.close();
    }
    expect([...out, ...err].join('\n')).not.toContain(token);
    expect(err.join('\n')).toMatch(
      /source http:\/\/127\.0\.0\.1:\d+\/flags\.json: HTTP sync .*HTTP 500/,
    );
  });

  it.each([
    [
      ['serve', '--uri', 'core.openfeature.dev/default/flags'],
      2,
      /rampflag serve: --uri core\.openfeature\.dev\/default\/flags: rampflag cannot read FeatureFlag resources/,
    ],
    [
      ['serve', '--sources', '[{"uri":"b/o","provider":"s3"}]'],
      2,
      /--sources\[0\]\.provider: rampflag cannot read Amazon S3/,
    ],
    [['serve', '--bearer-token', 'x'], 2, /--bearer-token: a token never goes in argv/],
    [
      ['serve', '--uri', 'http://127.0.0.1:1/flags.json', ...servePortArgs()],
      1,
      /rampflag serve: HTTP sync http:\/\/127\.0\.0\.1:1\/flags\.json: fetch failed/,
    ],
  ])('rampflag %j exits %d, saying why', async (argv, code, message) => {
    const { io, err } = fakeIo();
    expect(await main(argv, io)).toBe(code);
    expect(err.join('\n')).toMatch(message);
  });

  it('says in --help how to name sources', async () => {
    const { io, out } = fakeIo();
    expect(await main(['serve', '--help'], io)).toBe(0);
    expect(out.join('\n')).toMatch(
      /-f, --uri <uri>[\s\S]*grpc:\/\/host:8015[\s\S]*-s, --sources <json>[\s\S]*RAMPFLAG_SOURCE_TOKEN/,
    );
  });
});
