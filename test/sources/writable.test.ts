import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileFlagSource, FlagdProvider, InMemoryFlagSource } from 'rampflag';
import { clientFor } from '../support/provider-events.js';
import { describeWritableSource } from '../support/writable-contract.js';

afterAll(() => OpenFeature.close());

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampflag-write-'));
  dirs.push(dir);
  return dir;
};
const removeScratch = async () => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
};
const sources: FileFlagSource[] = [];

describeWritableSource('FileFlagSource', {
  yaml: true,
  async create(text) {
    const yaml = !/^\s*[{[]/.test(text);
    const file = join(scratch(), yaml ? 'flags.yaml' : 'flags.json');
    writeFileSync(file, text);
    const source = new FileFlagSource(file, { pollIntervalMs: 50, debounceMs: 5 });
    sources.push(source);
    return source;
  },
  async cleanup() {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await removeScratch();
  },
});

describeWritableSource('InMemoryFlagSource', {
  yaml: false,
  async create(text) {
    const source = new InMemoryFlagSource();
    await source.write(text);
    return source;
  },
});

const FLAGS = (color: string) => ({
  flags: { color: { state: 'ENABLED', variants: { c: color, x: 'x' }, defaultVariant: 'c' } },
});
const pretty = (color: string) => JSON.stringify(FLAGS(color), null, 2) + '\n';

describe('FileFlagSource writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = scratch();
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    await removeScratch();
  });
  const source = (file: string) => {
    const made = new FileFlagSource(file, { pollIntervalMs: 60_000, debounceMs: 5 });
    sources.push(made);
    return made;
  };

  it('keeps the mode of the file (0600 stays 0600)', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, pretty('red'), { mode: 0o600 });
    await source(file).write(JSON.stringify(FLAGS('blue')));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(pretty('blue'));
  });

  it('keeps a group-readable mode too (0640)', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, pretty('red'));
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o640);
    await source(file).write(JSON.stringify(FLAGS('blue')));
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('writes through a Kubernetes ConfigMap symlink chain to its target, keeping the links', async () => {
    // flags.json -> ..data/flags.json, ..data -> ..2024_01_01, as a ConfigMap volume lays it out
    mkdirSync(join(dir, '..2024_01_01'));
    writeFileSync(join(dir, '..2024_01_01', 'flags.json'), pretty('red'), { mode: 0o644 });
    symlinkSync('..2024_01_01', join(dir, '..data'));
    symlinkSync(join('..data', 'flags.json'), join(dir, 'flags.json'));
    const file = join(dir, 'flags.json');
    await source(file).write(JSON.stringify(FLAGS('blue')));
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    expect(readlinkSync(file)).toBe(join('..data', 'flags.json'));
    expect(lstatSync(join(dir, '..data')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, '..2024_01_01', 'flags.json'), 'utf8')).toBe(pretty('blue'));
    expect(readdirSync(join(dir, '..2024_01_01'))).toEqual(['flags.json']); // no temporary left
  });

  it('delivers a write behind a symlink at once, though the watcher cannot see it', async () => {
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'flags.json'), pretty('red'));
    symlinkSync(join(dir, 'real', 'flags.json'), join(dir, 'flags.json'));
    const flags = source(join(dir, 'flags.json'));
    const provider = new FlagdProvider({ source: flags });
    try {
      const { client } = await clientFor(provider);
      await flags.write(JSON.stringify(FLAGS('blue')));
      const deadline = Date.now() + 2000;
      while ((await client.getStringValue('color', '')) !== 'blue' && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await client.getStringValue('color', '')).toBe('blue');
    } finally {
      await provider.onClose();
    }
  });

  it('keeps a YAML file YAML, even when it was empty', async () => {
    const file = join(dir, 'flags.yml');
    writeFileSync(file, '');
    await source(file).write(JSON.stringify(FLAGS('blue')));
    expect(readFileSync(file, 'utf8')).toMatch(/^flags:\n {2}color:\n/);
  });

  it('creates a file that does not exist yet, in two-space JSON', async () => {
    const file = join(dir, 'new.json');
    await source(file).write(JSON.stringify(FLAGS('blue')));
    expect(readFileSync(file, 'utf8')).toBe(pretty('blue'));
  });

  it('refuses with WriteConflictError when the file was changed behind its back', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, pretty('red'));
    const flags = source(file);
    const seen = await flags.read();
    writeFileSync(file, pretty('green')); // an editor, a git pull, another replica
    await expect(flags.write(JSON.stringify(FLAGS('blue')), { expected: seen })).rejects.toThrow(
      expect.objectContaining({ name: 'WriteConflictError' }),
    );
    expect(readFileSync(file, 'utf8')).toBe(pretty('green'));
    expect(readdirSync(dir)).toEqual(['flags.json']);
  });

  it('refuses text that is not JSON, or nested too deep, and leaves the file as it was', async () => {
    const file = join(dir, 'flags.json');
    writeFileSync(file, pretty('red'));
    const flags = source(file);
    await expect(flags.write('{"flags": ')).rejects.toThrow(
      /cannot write flag file.*not valid JSON/,
    );
    await expect(flags.write('['.repeat(10_000) + ']'.repeat(10_000))).rejects.toThrow(
      /nested 10000 levels deep/,
    );
    expect(readFileSync(file, 'utf8')).toBe(pretty('red'));
    expect(readdirSync(dir)).toEqual(['flags.json']);
  });
});
