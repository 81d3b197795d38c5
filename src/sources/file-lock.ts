import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** How long to wait for a lock another holder has, in ms, before giving up. Default 5000. */
  readonly timeoutMs?: number;
  /** A lock file older than this (ms) is a crashed holder's: it is removed. Default 30 000. */
  readonly staleMs?: number;
}

/** The lock file beside `path` that {@link withFileLock} creates. @internal */
export const lockPathOf = (path: string): string => `${path}.lock`;

/** Whether a directory entry is a lock file of {@link withFileLock} (so a watcher can skip it). @internal */
export const isLockName = (name: string): boolean => name.endsWith('.lock');

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/** Creates `lock` if no one has it: true when this call did, false when it exists already. */
async function tryCreate(lock: string, token: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lock, 'wx', 0o600);
  } catch (error) {
    if (code(error) === 'EEXIST') return false;
    throw error;
  }
  let written = false;
  try {
    await handle.writeFile(token, 'utf8');
    written = true;
  } finally {
    await handle.close().catch(() => undefined);
    if (!written) await rm(lock, { force: true }); // not left behind half-written
  }
  return true;
}

/** Who holds `lock` (`pid … since …`, as written), for a message. */
async function holderOf(lock: string): Promise<string> {
  const text = await readFile(lock, 'utf8').catch(() => '');
  const [pid, time] = text.split(' ');
  return pid !== undefined && time !== undefined && pid !== ''
    ? `pid ${pid} since ${new Date(Number(time)).toISOString()}`
    : 'a holder that has not written its pid yet';
}

/**
 * Removes `lock` when it is older than `staleMs` (its holder crashed or hangs), unless it was
 * replaced meanwhile; true when the lock is gone.
 */
async function removeIfStale(lock: string, staleMs: number): Promise<boolean> {
  const found = await stat(lock).catch(() => undefined);
  if (found === undefined) return true; // released meanwhile
  if (Date.now() - found.mtimeMs <= staleMs) return false;
  const again = await stat(lock).catch(() => undefined);
  if (again?.ino === found.ino && again.mtimeMs === found.mtimeMs) await rm(lock, { force: true });
  return true;
}

/** Waits until this call has created `lock`; rejects once `timeoutMs` has passed. */
async function acquire(lock: string, token: string, timeoutMs: number, staleMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    if (await tryCreate(lock, token)) return;
    if (await removeIfStale(lock, staleMs)) continue;
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(
        `cannot lock ${lock}: held by ${await holderOf(lock)} for over ${timeoutMs} ms; if that process is gone, remove the lock file (it is taken over after ${staleMs} ms)`,
      );
    await sleep(Math.min(delay, left));
  }
}

/** Removes `lock` if it is still the one this holder created (not a successor's, after a takeover). */
async function release(lock: string, token: string): Promise<void> {
  const text = await readFile(lock, 'utf8').catch(() => undefined);
  if (text === token) await rm(lock, { force: true });
}

/**
 * Runs `fn` while holding `<path>.lock`, so processes that lock the same path take turns: the lock
 * file is created exclusively (`O_EXCL`, holding the pid and time), retried with a short backoff
 * until `timeoutMs` (then the promise rejects, naming the lock file and its holder), taken over when
 * older than `staleMs`, and always removed after `fn`, whether it resolves or rejects.
 * @internal
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  { timeoutMs = 5000, staleMs = 30_000 }: FileLockOptions = {},
): Promise<T> {
  const lock = lockPathOf(path);
  const token = `${process.pid} ${Date.now()} ${Math.random().toString(36).slice(2)}`;
  await acquire(lock, token, timeoutMs, staleMs);
  try {
    return await fn();
  } finally {
    await release(lock, token);
  }
}
