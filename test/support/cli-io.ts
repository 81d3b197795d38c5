import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';

/** A command's io that records what it prints, and the lines it recorded. */
export interface FakeIo {
  readonly io: CliIo;
  /** Every stdout line, in order. */
  readonly out: string[];
  /** Every stderr line, in order. */
  readonly err: string[];
  /** The stdout lines joined by newlines. */
  text(): string;
  /** Aborts `io.signal`, as Ctrl-C does. */
  stop(): void;
}

/** What a {@link fakeIo} is besides: a terminal (`tty`), a progress stream, a signal of its own. */
export interface FakeIoOptions {
  readonly tty?: boolean;
  readonly progress?: NodeJS.WritableStream;
  /** Aborts `io.signal` too (e.g. `AbortSignal.timeout(…)`). */
  readonly signal?: AbortSignal;
}

/** A fake io for `(args, io) => exitCode` commands: it records stdout and stderr line by line. */
export function fakeIo(options: FakeIoOptions = {}): FakeIo {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const { signal, ...terminal } = options;
  const io: CliIo = {
    stdout: (line) => void out.push(line),
    stderr: (line) => void err.push(line),
    signal: signal === undefined ? controller.signal : AbortSignal.any([controller.signal, signal]),
    ...terminal,
  };
  return { io, out, err, text: () => out.join('\n'), stop: () => controller.abort() };
}

/**
 * A temporary directory for one test file, removed after its tests, and `file(name, content)`,
 * which writes a new file in it whose name ends in `name`: text as it is, anything else as
 * indented JSON. Resolves with the path.
 */
export function scratchDir(prefix: string): {
  readonly dir: string;
  file(name: string, content: unknown): string;
} {
  const dir = mkdtempSync(join(tmpdir(), `rampflag-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let made = 0;
  return {
    dir,
    file(name, content) {
      const path = join(dir, `${made++}-${name}`);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return path;
    },
  };
}

/** Clean-ups a test registers with `push` (a server's stop), run after each test, the latest first. */
export function stopsAfterEach(): (() => unknown)[] {
  const stops: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  return stops;
}
