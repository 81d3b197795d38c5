import { watch, type FSWatcher, type Stats } from 'node:fs';
import { chmod, chown, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { asError, deliver, report } from './deliver.js';
import { isLockName, withFileLock } from './file-lock.js';
import { inFormatOf } from './keep-format.js';
import {
  isWriteConflictError,
  WriteConflictError,
  type FlagSourceSink,
  type WritableFlagSource,
  type WriteOptions,
} from './flag-source.js';

/** Options of {@link FileFlagSource}. */
export interface FileFlagSourceOptions {
  /** How often the file is checked besides watching it (some file systems send no events). Default 5000. */
  readonly pollIntervalMs?: number;
  /** How long to wait after a change event before reading, so a write in progress can finish. Default 50. */
  readonly debounceMs?: number;
}

/** `undefined` for a file that does not exist; any other failure is thrown on. */
function absent(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}

/**
 * Gives `temporary` the mode of the file it replaces (0600 stays 0600) and, where this process may,
 * its owner and group.
 */
async function keepOwnership(current: Stats, temporary: string): Promise<void> {
  await chmod(temporary, current.mode & 0o7777);
  const uid = process.getuid?.();
  if (uid !== undefined && (current.uid !== uid || current.gid !== process.getgid?.()))
    await chown(temporary, current.uid, current.gid).catch(() => undefined); // not permitted: ours
}

/** What identifies one version of the file without reading it. */
const signature = (s: { mtimeMs: number; size: number; ino: number }): string =>
  `${s.mtimeMs}:${s.size}:${s.ino}`;

/**
 * A flag file (JSON or YAML), watched. The directory is watched rather than the file, so an editor's
 * atomic rename or a Kubernetes ConfigMap's symlink swap is seen; a poll every `pollIntervalMs`
 * catches what watching misses. A missing, half-written or invalid file is reported as an error
 * while the last good flags stay in service; the next good version is delivered as usual.
 */
export class FileFlagSource implements WritableFlagSource {
  readonly path: string;
  readonly #pollIntervalMs: number;
  readonly #debounceMs: number;
  #sink: FlagSourceSink | undefined;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #seen: string | undefined;
  #reading: Promise<void> = Promise.resolve();
  /** Bumped when a write begins and when it ends, so a read can tell one happened meanwhile. */
  #generation = 0;
  #pendingWrites = 0;
  #failing = false;
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string, options: FileFlagSourceOptions = {}) {
    this.path = resolve(path);
    this.#pollIntervalMs = options.pollIntervalMs ?? 5000;
    this.#debounceMs = options.debounceMs ?? 50;
  }

  async start(sink: FlagSourceSink): Promise<void> {
    let text: string;
    try {
      this.#seen = signature(await stat(this.path));
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read flag file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const problem = deliver(sink, text);
    if (problem !== undefined) throw problem; // an invalid file fails the start
    this.#sink = sink;
    const name = basename(this.path);
    this.#watcher = watch(dirname(this.path), { persistent: false }, (_event, changed) => {
      // A symlink swap renames another entry (..data), so any event may concern the file; a
      // writer's lock file (ours or another process's) never changes the configuration.
      if (changed !== null && changed !== name && isLockName(changed)) return;
      if (changed === null || changed === name || changed.startsWith('..')) this.#schedule();
    });
    this.#watcher.on('error', () => undefined); // the directory went away: the poll reports it
    this.#poll = setInterval(() => this.#check(), this.#pollIntervalMs);
    this.#poll.unref();
  }

  async stop(): Promise<void> {
    this.#sink = undefined;
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
    await this.#reading;
  }

  /** The file's text as it is on disk now. */
  async read(): Promise<string> {
    return readFile(this.path, 'utf8');
  }

  /**
   * Replaces the file's contents with `configuration` (JSON text) in the file's own format: JSON
   * with its indentation and final newline, YAML as YAML with its comments. Atomic (a temporary file
   * beside the real file, renamed over it), so no reader ever sees half of it; through symlinks to
   * their final target, so a Kubernetes ConfigMap's link chain stays; with the file's mode and,
   * where the process may, its owner. With `expected`, the file is re-read just before the rename
   * and nothing is written unless it is still exactly `expected` (`WriteConflictError`). Writes
   * through one source are serialised, and writes from any process take turns through a lock file
   * beside the real file (`<file>.lock`, see `withFileLock`), so two processes' compare-and-swap
   * writes from the same read cannot both succeed. The new flags are then delivered as any change is.
   */
  write(configuration: string, options: WriteOptions = {}): Promise<void> {
    // A read that began before this write may deliver the file as it was: it is dropped (see
    // #read), and the file is read again once the write is over, whatever its outcome.
    this.#generation++;
    this.#pendingWrites++;
    const next = this.#writing.then(() => this.#write(configuration, options));
    this.#writing = next.catch(() => undefined);
    void this.#writing.then(() => {
      this.#generation++;
      this.#pendingWrites--;
      if (this.#sink !== undefined) this.#schedule();
    });
    return next;
  }

  async #write(configuration: string, options: WriteOptions): Promise<void> {
    const target = await realpath(this.path).catch(() => this.path); // a new file: the path itself
    try {
      // From the read to the rename, no other process's write through a FileFlagSource interleaves.
      await withFileLock(target, () => this.#replace(target, configuration, options));
    } catch (error) {
      if (isWriteConflictError(error)) throw error;
      throw new Error(`cannot write flag file ${this.path}: ${asError(error).message}`, {
        cause: error,
      });
    }
  }

  /** Compares and renames a temporary file over `target`; the caller holds the lock. */
  async #replace(target: string, configuration: string, { expected }: WriteOptions): Promise<void> {
    let temporary: string | undefined;
    try {
      const previous = await readFile(target, 'utf8').catch(absent);
      if (expected !== undefined && previous !== expected) throw new WriteConflictError();
      const text = inFormatOf(previous ?? '', configuration, target);
      const suffix = `${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`;
      temporary = join(dirname(target), `.${basename(target)}.${suffix}.tmp`);
      const current = await stat(target).catch(absent);
      // Private until its mode is set; a new file gets the mode the umask gives.
      const mode = current === undefined ? 0o666 : 0o600;
      await writeFile(temporary, text, { encoding: 'utf8', flag: 'wx', mode });
      if (current !== undefined) await keepOwnership(current, temporary);
      if (expected !== undefined && (await readFile(target, 'utf8').catch(absent)) !== expected)
        throw new WriteConflictError();
      await rename(temporary, target);
      temporary = undefined;
    } finally {
      if (temporary !== undefined) await rm(temporary, { force: true });
    }
  }

  #schedule(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#queue(true), this.#debounceMs);
    this.#debounce.unref();
  }

  #check(): void {
    this.#queue(false);
  }

  /** Reads one at a time; `force` reads even when the file's signature is unchanged. */
  #queue(force: boolean): void {
    // An unexpected failure is reported and the chain goes on: one bad read must not stop watching.
    this.#reading = this.#reading
      .then(() => this.#read(force))
      .catch((error: unknown) => report(this.#sink, asError(error)));
  }

  async #read(force: boolean): Promise<void> {
    const sink = this.#sink;
    if (sink === undefined) return;
    let text: string;
    const generation = this.#generation;
    try {
      const current = signature(await stat(this.path));
      if (!force && current === this.#seen && !this.#failing) return;
      this.#seen = current;
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      this.#seen = undefined;
      this.#fail(
        sink,
        new Error(
          `flag file ${this.path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); serving the last good flags`,
          { cause: error },
        ),
      );
      return;
    }
    // a write began meanwhile: this text may be older than what the writer serves already
    if (generation !== this.#generation || this.#pendingWrites > 0) {
      this.#seen = undefined;
      return;
    }
    const problem = deliver(sink, text);
    if (problem === undefined) this.#failing = false;
    else this.#fail(sink, problem);
  }

  #fail(sink: FlagSourceSink, error: Error): void {
    if (this.#failing) return; // report a failure once, not at every poll
    this.#failing = true;
    report(sink, error);
  }
}
