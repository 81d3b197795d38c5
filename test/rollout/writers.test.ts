import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  FileFlagSource,
  FlagdProvider,
  InMemoryFlagSource,
  isWriteConflictError,
  type FlagSource,
} from 'rampflag';
import type { FlagServer } from 'rampflag/server';
import {
  adminWriter,
  fileWriter,
  memoryWriter,
  updateFlag,
  type FlagWriter,
} from '../../src/rollout/writers.js';
import { inProcessProvider } from '../support/sync-flags.js';
import { serverOnFreePorts } from '../support/test-server.js';
import { describeFlagWriter } from '../support/writer-contract.js';

afterAll(() => OpenFeature.close());

const dir = mkdtempSync(join(tmpdir(), 'rampflag-writers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A new flag file holding `text`, named for its format. */
const fileWith = (text: string) => {
  const yaml = !/^\s*[{[]/.test(text);
  const path = join(dir, `flags-${++files}.${yaml ? 'yaml' : 'json'}`);
  writeFileSync(path, text);
  return path;
};
const fast = { pollIntervalMs: 50, debounceMs: 5 };
/** Changes the file as a person would, through a source of its own (keeping its format). */
const meddleFile = (path: string) => (configuration: string) =>
  new FileFlagSource(path).write(configuration);
const readFile = (path: string) => () => new FileFlagSource(path).read();

const servers: FlagServer[] = [];
const stopServers = async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
};
afterEach(stopServers);

/** A FlagServer with a token, on free ports, serving `sources`. */
async function serve(sources: { name: string; source: FlagSource }[]) {
  const server = serverOnFreePorts({ sources, adminToken: 'sekrit' });
  servers.push(server);
  const ports = await server.start();
  return { ...ports, url: `http://127.0.0.1:${ports.managementPort}` };
}

describeFlagWriter('fileWriter', {
  yaml: true,
  async create(text) {
    const path = fileWith(text);
    return {
      writer: fileWriter(path),
      stored: readFile(path),
      meddle: meddleFile(path),
      provider: () => new FlagdProvider({ source: new FileFlagSource(path, fast) }),
    };
  },
});

describeFlagWriter('memoryWriter', {
  yaml: false,
  async create(text) {
    const source = new InMemoryFlagSource();
    await source.write(text);
    return {
      writer: memoryWriter(source),
      stored: () => source.read(),
      meddle: (configuration) => source.write(configuration),
      provider: () => new FlagdProvider({ source }),
    };
  },
});

describeFlagWriter('adminWriter over a flag file served by FlagServer, with a token', {
  yaml: true,
  async create(text) {
    const path = fileWith(text);
    const { url, syncPort } = await serve([
      { name: 'shop', source: new FileFlagSource(path, fast) },
    ]);
    return {
      writer: adminWriter(url, { token: 'sekrit' }),
      stored: readFile(path),
      meddle: meddleFile(path),
      provider: () => inProcessProvider(syncPort),
    };
  },
  cleanup: stopServers,
});

const checkout = { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' };
const configuration = (defaultVariant = 'off') =>
  JSON.stringify({ flags: { checkout: { ...checkout, defaultVariant } } });

describe('fileWriter', () => {
  it('writes through a symlink to the real file, keeping the link and the mode', async () => {
    const real = fileWith(configuration());
    chmodSync(real, 0o640);
    const link = join(dir, `link-${++files}.json`);
    symlinkSync(real, link);
    const writer = fileWriter(link);
    await updateFlag(writer, 'checkout', (flag) => ({ ...flag, defaultVariant: 'on' }));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(real);
    expect(statSync(real).mode & 0o777).toBe(0o640);
    expect(JSON.parse(await new FileFlagSource(real).read())).toEqual(
      JSON.parse(configuration('on')),
    );
  });

  it('names a file that is not there', async () => {
    await expect(fileWriter(join(dir, 'missing.json')).read()).rejects.toThrow(
      /cannot read flag file .*missing\.json/,
    );
  });
});

describe('adminWriter', () => {
  it('names the target without the token', () => {
    const writer = adminWriter('http://localhost:8014', { token: 'sekrit', source: 'shop' });
    expect(writer.target).toBe('admin http://localhost:8014 source shop');
    expect(adminWriter('http://me:pw@localhost:8014/').target).toBe('admin http://localhost:8014/');
  });

  it('reads and writes the source named with ?source= on a server with several', async () => {
    const shop = new InMemoryFlagSource();
    await shop.write(configuration());
    const other = new InMemoryFlagSource({ other: { variants: { a: 1 }, defaultVariant: 'a' } });
    const { url } = await serve([
      { name: 'shop', source: shop },
      { name: 'other', source: other },
    ]);
    const writer = adminWriter(url, { token: 'sekrit', source: 'shop' });
    const result = await updateFlag(writer, 'checkout', (flag) => ({
      ...flag,
      defaultVariant: 'on',
    }));
    expect(result.changed).toBe(true);
    expect(JSON.parse(await shop.read())).toEqual(JSON.parse(configuration('on')));
    expect(Object.keys(other.flags)).toEqual(['other']);
  });

  it('names the status and the server message when the token is wrong', async () => {
    const { url } = await serve([{ name: 'shop', source: new InMemoryFlagSource() }]);
    await expect(adminWriter(url, { token: 'wrong' }).read()).rejects.toThrow(
      /answered GET with 401: a valid "Authorization: Bearer <token>" header is required \(set RAMPFLAG_TOKEN/,
    );
  });

  it('names the status and the server message when the configuration is refused', async () => {
    const source = new InMemoryFlagSource();
    await source.write(configuration());
    const { url } = await serve([{ name: 'shop', source }]);
    const writer = adminWriter(url, { token: 'sekrit' });
    const error: unknown = await updateFlag(writer, 'checkout', (flag) => ({
      ...flag,
      state: 'MAYBE',
    })).catch((e: unknown) => e);
    expect(isWriteConflictError(error)).toBe(false);
    expect((error as Error).message).toMatch(/answered PUT with 400: .*state/);
    expect(JSON.parse(await source.read())).toEqual(JSON.parse(configuration()));
  });

  it('says when the server cannot be reached', async () => {
    const { url } = await serve([{ name: 'shop', source: new InMemoryFlagSource() }]);
    await stopServers();
    await expect(adminWriter(url, { token: 'sekrit' }).read()).rejects.toThrow(
      new RegExp(`cannot reach admin ${url}`),
    );
  });

  describe('against a server that misbehaves', () => {
    let hang: Server | undefined;
    afterEach(
      () => new Promise<void>((resolve) => (hang ? hang.close(() => resolve()) : resolve())),
    );
    const listen = async (handler: Parameters<typeof createServer>[1]) => {
      hang = createServer(handler);
      await new Promise<void>((resolve) => hang?.listen(0, '127.0.0.1', resolve));
      const address = hang.address();
      return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    };

    it('gives up after its timeout', async () => {
      const url = await listen(() => undefined); // never answers
      await expect(adminWriter(url, { timeoutMs: 100 }).read()).rejects.toThrow(
        /did not answer within 100 ms/,
      );
      hang?.closeAllConnections();
    });

    it('refuses a body over its limit', async () => {
      const url = await listen((_req, res) => {
        res.writeHead(200, { ETag: '"x"' });
        res.end('x'.repeat(2000));
      });
      await expect(adminWriter(url, { maxBytes: 1000 }).read()).rejects.toThrow(/over 1000 bytes/);
    });

    it('refuses a configuration without an ETag', async () => {
      const url = await listen((_req, res) => res.end('{"flags":{}}'));
      await expect(adminWriter(url).read()).rejects.toThrow(/no ETag/);
    });
  });
});

describe('updateFlag', () => {
  /** A writer over a string, for the algorithm alone. */
  const stringWriter = (text: string): FlagWriter & { text: string } => {
    const store = {
      text,
      target: 'string',
      read: async () => ({ configuration: store.text, version: String(store.text.length) }),
      async write(next: string, version: string) {
        if (version !== String(store.text.length)) throw new Error('unexpected');
        store.text = next;
        return { version: String(next.length) };
      },
    };
    return store;
  };

  it('keeps "__proto__" keys as keys, in flags and around them', async () => {
    const writer = stringWriter(
      '{"flags":{"__proto__":{"state":"ENABLED"},"a":{"state":"ENABLED"}},"__proto__":{"x":1}}',
    );
    await updateFlag(writer, 'a', (flag) => ({ ...flag, state: 'DISABLED' }));
    expect(writer.text).toBe(
      '{"flags":{"__proto__":{"state":"ENABLED"},"a":{"state":"DISABLED"}},"__proto__":{"x":1}}',
    );
  });

  it('refuses a configuration without a flags object', async () => {
    await expect(updateFlag(stringWriter('{"flags":[]}'), 'a', (f) => f)).rejects.toThrow(
      /the configuration in string has no "flags" object/,
    );
  });

  it('does not treat an inherited name as a flag', async () => {
    await expect(updateFlag(stringWriter('{"flags":{}}'), 'constructor', (f) => f)).rejects.toThrow(
      /no flag "constructor"/,
    );
  });
});
