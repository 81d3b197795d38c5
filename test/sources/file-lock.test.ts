import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileFlagSource } from '../../src/index.js';
import { withFileLock } from '../../src/sources/file-lock.js';
import type { FlagSourceSink } from '../../src/sources/flag-source.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rampflag-lock-'));
  file = join(dir, 'flags.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A lock file as another process leaves it, `ageMs` old. */
function foreignLock(path: string, ageMs = 0): void {
  writeFileSync(`${path}.lock`, `4242 ${Date.now() - ageMs} abc`);
  const then = new Date(Date.now() - ageMs);
  utimesSync(`${path}.lock`, then, then);
}

const flags = (value: string) =>
  JSON.stringify({
    flags: { f: { state: 'ENABLED', variants: { v: value }, defaultVariant: 'v' } },
  });

describe('withFileLock', () => {
  it('holds <path>.lock, with its pid, while fn runs and removes it after', async () => {
    const seen = await withFileLock(file, () => readFile(`${file}.lock`, 'utf8'));
    expect(seen).toMatch(new RegExp(`^${process.pid} \\d+ `));
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('removes its lock when fn rejects, and rejects with fn’s error', async () => {
    const failing = withFileLock(file, () => Promise.reject(new Error('boom')));
    await expect(failing).rejects.toThrow('boom');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('makes holders take turns', async () => {
    const log: string[] = [];
    const hold = (name: string) =>
      withFileLock(file, async () => {
        log.push(`${name} in`);
        await sleep(30);
        log.push(`${name} out`);
      });
    await Promise.all([hold('a'), hold('b')]);
    // either may take the lock first (they race for it); the other waits until it is released
    const [first, second] = log[0] === 'b in' ? ['b', 'a'] : ['a', 'b'];
    expect(log).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
  });

  it('times out on a held lock, naming the lock file and its holder, and leaves it alone', async () => {
    foreignLock(file);
    const started = Date.now();
    const waiting = withFileLock(file, () => Promise.resolve('ran'), { timeoutMs: 150 });
    await expect(waiting).rejects.toThrow(
      new RegExp(`cannot lock ${file}\\.lock: held by pid 4242 since .* for over 150 ms`),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(existsSync(`${file}.lock`)).toBe(true); // another holder's
  });

  it('takes over a lock older than staleMs', async () => {
    foreignLock(file, 60_000);
    await expect(
      withFileLock(file, () => Promise.resolve('ran'), { timeoutMs: 100 }),
    ).resolves.toBe('ran');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('goes on once the holder releases the lock', async () => {
    foreignLock(file);
    setTimeout(() => rmSync(`${file}.lock`), 50);
    await expect(withFileLock(file, () => Promise.resolve('ran'))).resolves.toBe('ran');
  });
});

describe('FileFlagSource and its lock file', () => {
  const sink = () => {
    const delivered: unknown[] = [];
    const s: FlagSourceSink = {
      configuration: (payload) => void delivered.push(payload),
      error: () => undefined,
      stale: () => undefined,
    } as FlagSourceSink;
    return { s, delivered };
  };

  it('takes over a stale lock left by a crashed writer and leaves no lock behind', async () => {
    writeFileSync(file, flags('a'));
    foreignLock(file, 60_000);
    const source = new FileFlagSource(file);
    await source.write(flags('b'), { expected: flags('a') });
    expect(JSON.parse(await source.read())).toEqual(JSON.parse(flags('b')));
    expect(readdirSync(dir)).toEqual(['flags.json']);
  });

  it('locks beside the real file at the end of a symlink chain, not beside the link', async () => {
    mkdirSync(join(dir, 'real'));
    const real = join(dir, 'real', 'flags.json');
    writeFileSync(real, flags('a'));
    symlinkSync(join('real', 'flags.json'), file);
    const source = new FileFlagSource(file);
    let written = false;
    let writing: Promise<unknown> = Promise.resolve();
    await withFileLock(real, async () => {
      writing = source.write(flags('b')).then(() => (written = true));
      await sleep(100);
      expect(written).toBe(false); // waits for the holder of real/flags.json.lock
    });
    await writing;
    expect(written).toBe(true);
    expect(readdirSync(join(dir, 'real'))).toEqual(['flags.json']);
    expect(readdirSync(dir).sort()).toEqual(['flags.json', 'real']);
  });

  it('leaves no lock behind on a conflict', async () => {
    writeFileSync(file, flags('a'));
    const source = new FileFlagSource(file);
    await expect(source.write(flags('b'), { expected: flags('x') })).rejects.toMatchObject({
      name: 'WriteConflictError',
    });
    expect(readdirSync(dir)).toEqual(['flags.json']);
  });

  it.each(['flags.json', '..flags.json'])(
    'does not read %s again when a writer locks and unlocks it',
    async (name) => {
      file = join(dir, name);
      writeFileSync(file, flags('a'));
      const { s, delivered } = sink();
      const source = new FileFlagSource(file, { debounceMs: 5 });
      await source.start(s);
      try {
        await sleep(50); // events of the start itself, if any
        const before = delivered.length;
        foreignLock(file);
        rmSync(`${file}.lock`);
        await sleep(150);
        expect(delivered.length).toBe(before);
      } finally {
        await source.stop();
      }
    },
  );
});
