import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProviderEvents } from '@openfeature/server-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileFlagSource, FlagdProvider } from '../../src/index.js';
import { clientFor, until } from '../support/provider-events.js';

const flags = (color: string) =>
  JSON.stringify({
    flags: { color: { state: 'ENABLED', variants: { c: color, other: 'x' }, defaultVariant: 'c' } },
  });

let dir: string;
let providers: FlagdProvider[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rampflag-file-'));
});
afterEach(async () => {
  await Promise.all(providers.map((p) => p.onClose()));
  providers = [];
  rmSync(dir, { recursive: true, force: true });
});

async function serve(file: string) {
  const provider = new FlagdProvider({
    resolverType: 'file',
    offlineFlagSourcePath: file,
    offlinePollIntervalMs: 50,
  });
  providers.push(provider);
  return { provider, ...(await clientFor(provider)) };
}

describe('FileFlagSource through FlagdProvider', () => {
  it('serves the file and picks up an edit as CONFIGURATION_CHANGED', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, flags('red'));
    const { client, events } = await serve(file);
    expect(await client.getStringValue('color', '')).toBe('red');
    writeFileSync(file, flags('blue'));
    await until(
      () => events.some(([e]) => e === ProviderEvents.ConfigurationChanged),
      'a change event',
    );
    expect(await client.getStringValue('color', '')).toBe('blue');
    expect(
      events.find(([e]) => e === ProviderEvents.ConfigurationChanged)?.[1]?.flagsChanged,
    ).toEqual(['color']);
  });

  it('survives an atomic rename (how editors save)', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, flags('red'));
    const { client } = await serve(file);
    writeFileSync(join(dir, '.flags.json.tmp'), flags('green'));
    renameSync(join(dir, '.flags.json.tmp'), file);
    await untilValue(client, 'green');
  });

  it('survives a Kubernetes ConfigMap symlink swap', async () => {
    // flags.json -> ..data/flags.json, ..data -> ..v1; an update makes ..v2 and renames a new ..data over it
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'flags.json'), flags('red'));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'flags.json'), join(dir, 'flags.json'));
    const { client } = await serve(join(dir, 'flags.json'));
    expect(await client.getStringValue('color', '')).toBe('red');
    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v2', 'flags.json'), flags('purple'));
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await untilValue(client, 'purple');
  });

  it('keeps the last good flags through a half-written file, reports ERROR, and recovers with READY', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, flags('red'));
    const { client, events } = await serve(file);
    writeFileSync(file, flags('blue').slice(0, 30));
    await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
    expect(String(events.find(([e]) => e === ProviderEvents.Error)?.[1]?.message)).toMatch(
      /not valid JSON/,
    );
    expect(await client.getStringValue('color', '')).toBe('red');
    writeFileSync(file, flags('blue'));
    await until(() => events.some(([e]) => e === ProviderEvents.Ready), 'a ready event');
    await until(
      () => events.some(([e]) => e === ProviderEvents.ConfigurationChanged),
      'a change event',
    );
    expect(await client.getStringValue('color', '')).toBe('blue');
  });

  it('keeps the last good flags when the file is deleted, and serves it again when it returns', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, flags('red'));
    const { client, events } = await serve(file);
    unlinkSync(file);
    await until(() => events.some(([e]) => e === ProviderEvents.Error), 'an error event');
    expect(String(events.find(([e]) => e === ProviderEvents.Error)?.[1]?.message)).toMatch(
      /cannot be read \(ENOENT\); serving the last good flags/,
    );
    expect(await client.getStringValue('color', '')).toBe('red');
    writeFileSync(file, flags('teal'));
    await untilValue(client, 'teal');
  });

  it('fails initialisation for a missing or invalid file, saying which', async () => {
    const missing = new FlagdProvider({
      resolverType: 'file',
      offlineFlagSourcePath: join(dir, 'nope.json'),
    });
    await expect(missing.initialize()).rejects.toThrow(/cannot read flag file .*nope\.json/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"flags": {"x": {"state": "ON", "variants": {"a": 1}}}}');
    const invalid = new FlagdProvider({ resolverType: 'file', offlineFlagSourcePath: bad });
    await expect(invalid.initialize()).rejects.toThrow(/flags.x.state/);
  });
});

async function untilValue(
  client: { getStringValue(k: string, d: string): Promise<string> },
  expected: string,
) {
  const end = Date.now() + 5000;
  for (;;) {
    if ((await client.getStringValue('color', '')) === expected) return;
    if (Date.now() > end) throw new Error(`color never became ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('FileFlagSource, whatever its sink throws', () => {
  it('never throws out of its watcher or poll, and keeps watching', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, flags('red'));
    const delivered: unknown[] = [];
    const reported: string[] = [];
    const source = new FileFlagSource(file, { pollIntervalMs: 20, debounceMs: 5 });
    await source.start({
      configuration: (payload) => {
        if (String(payload).includes('boom'))
          throw new RangeError('Maximum call stack size exceeded');
        delivered.push(payload);
      },
      error: (error) => {
        reported.push(error.message);
        throw new Error('a sink that throws while reporting');
      },
      stale: () => undefined,
    });
    try {
      writeFileSync(file, flags('boom'));
      await until(() => reported.length > 0, 'an error report');
      expect(reported[0]).toMatch(/Maximum call stack/);
      writeFileSync(file, flags('blue'));
      // (a read in the middle of the write may deliver a half-written file first: this sink takes
      // anything, so wait for the whole one)
      await until(() => delivered.some((p) => String(p).includes('blue')), 'the next good file');
    } finally {
      await source.stop();
    }
  });
});

describe('FileFlagSource writes racing its own reads', () => {
  it('never delivers, after a write began, a file read from before it', async () => {
    const file = join(dir, 'race.json');
    writeFileSync(file, flags('start'));
    const source = new FileFlagSource(file, { pollIntervalMs: 5, debounceMs: 1 });
    const delivered: string[] = [];
    let writing = '';
    const stale: string[] = [];
    await source.start({
      configuration: (payload) => {
        const text = String(payload);
        delivered.push(text);
        // an outside edit made before the write began, delivered after it began
        if (writing !== '' && text.includes('"outside-')) stale.push(`${text} during ${writing}`);
      },
      error: () => undefined,
      stale: () => undefined,
    });
    for (let round = 0; round < 40; round++) {
      writing = '';
      writeFileSync(file, flags(`outside-${round}`)); // the watcher and the poll both start reading
      await new Promise((resolve) => setTimeout(resolve, round % 4));
      writing = `write ${round}`;
      await source.write(flags(`server-${round}`));
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    await source.stop();
    expect(stale).toEqual([]);
    expect(delivered.at(-1)).toContain('server-39');
  });
});
