import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { JsonValue } from '@openfeature/core';
import type { Clock } from '../evaluator/index.js';
import { withFileLock } from '../sources/file-lock.js';

/** What a rollout did, as its audit log names it. */
export type AuditAction =
  | 'start'
  | 'advance'
  | 'hold'
  | 'complete'
  | 'rollback'
  | 'kill'
  | 'pause'
  | 'resume'
  | (string & {});

/** What the controller records about one action; {@link AuditLog.append} adds the rest. */
export interface AuditEntry {
  /** ISO time; the log's clock gives it when left out. */
  readonly time?: string;
  /** Who acted: a person, a CI job, `controller@host`. */
  readonly actor: string;
  readonly rolloutId: string;
  readonly flag: string;
  readonly action: AuditAction;
  /** Whether the action changed the flag (a repeated kill did not: "no change"). */
  readonly changed: boolean;
  readonly reason: string;
  /** Why: samples per guardrail and cohort, estimate, interval, SRM p-value, … */
  readonly evidence: JsonValue;
  /** The flag's definition before and after the action (the same when nothing changed). */
  readonly before: JsonValue;
  readonly after: JsonValue;
}

/** One line of the audit log. */
export interface AuditRecord extends AuditEntry {
  readonly time: string;
  /** The record's place in the log, from 1, so a removed line is told from a changed one. */
  readonly seq: number;
  /** SHA-256 (hex) of the previous line's exact text; {@link GENESIS} for the first record. */
  readonly prev: string;
}

/** The `prev` of the first record. */
export const GENESIS = '0'.repeat(64);

/** What {@link verifyAudit} finds: the chain whole, or the first line where it breaks, and why. */
export type AuditVerification =
  | {
      readonly ok: true;
      readonly records: readonly AuditRecord[];
      /** Each record's hash (the `prev` of the next), in order: find a head kept elsewhere in it. */
      readonly hashes: readonly string[];
      readonly head: string;
    }
  | { readonly ok: false; readonly line: number; readonly problem: string };

/** The audit log cannot be read or written (too large, a cut-off or broken last line, …). */
export class AuditLogError extends Error {
  override readonly name = 'AuditLogError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Whether `error` is an {@link AuditLogError}, across ESM/CJS copies of the class. */
export function isAuditLogError(error: unknown): error is AuditLogError {
  return error instanceof Error && error.name === 'AuditLogError';
}

/** SHA-256 (hex) of one line's text, without its newline: the next record's `prev`. */
export function hashLine(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex');
}

const STRINGS = ['time', 'actor', 'rolloutId', 'flag', 'action', 'reason'] as const;

/** What is wrong with a parsed line as a record, or undefined when it is one. */
function recordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  for (const key of STRINGS) if (typeof record[key] !== 'string') return `no string "${key}"`;
  if (typeof record['changed'] !== 'boolean') return 'no boolean "changed"';
  if (!Number.isSafeInteger(record['seq']) || (record['seq'] as number) < 1) return 'no "seq"';
  if (typeof record['prev'] !== 'string' || !/^[0-9a-f]{64}$/.test(record['prev']))
    return 'no SHA-256 "prev"';
  for (const key of ['evidence', 'before', 'after'])
    if (!Object.hasOwn(record, key)) return `no "${key}"`;
  return undefined;
}

type Break = { readonly ok: false; readonly line: number; readonly problem: string };

/** Where and why the chain breaks when line `i` (from 1) does not follow line `i - 1`. */
function breakAt(i: number, record: AuditRecord, owners: ReadonlyMap<string, number>): Break {
  const owner = owners.get(record.prev);
  const at = (line: number, problem: string): Break => ({ ok: false, line, problem });
  if (owner !== undefined && owner !== i - 1)
    return at(i, `line ${i} is out of order: its prev is the hash of line ${owner}`);
  if (record.seq > i)
    return at(i, `line ${i} is record ${record.seq}: the record(s) before it were removed`);
  if (i === 1) return at(1, `line 1 does not start the chain (its prev is not ${GENESIS})`);
  return at(i - 1, `line ${i - 1} was changed: line ${i}'s prev is not its hash`);
}

/**
 * Checks an audit log's text: every line a record, each `prev` the SHA-256 of the line before it,
 * records numbered in order. Names the first line where the chain breaks: a changed line (its
 * successor's `prev` no longer matches), a removed line (the next one is numbered past it), a
 * reordered or repeated one, a line that is not JSON, and a last line cut off mid-write (no final
 * newline). Only `expectedHead`, the last record's hash kept elsewhere (the flag's `rollout.audit`),
 * catches a changed or removed last line. Pure.
 */
export function verifyAudit(text: string, expectedHead?: string): AuditVerification {
  const lines = text.split('\n');
  const cut = lines.pop() ?? ''; // '' when the text ends with a newline, as it must
  const hashes = lines.map((line) => hashLine(line));
  const owners = new Map(hashes.map((hash, i) => [hash, i + 1] as const));
  const records: AuditRecord[] = [];
  let prev = GENESIS;
  for (const [index, line] of lines.entries()) {
    const i = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, line: i, problem: `line ${i} is not JSON` };
    }
    const problem = recordProblem(value);
    if (problem !== undefined)
      return { ok: false, line: i, problem: `line ${i} is not an audit record: ${problem}` };
    const record = value as AuditRecord;
    if (record.prev !== prev) return breakAt(i, record, owners);
    if (record.seq !== i)
      return { ok: false, line: i, problem: `line ${i} is numbered ${record.seq}` };
    records.push(record);
    prev = hashes[index] as string;
  }
  if (cut !== '') {
    const i = lines.length + 1;
    const problem = `line ${i} is cut off (no final newline): a write was interrupted, e.g. by a crash`;
    return { ok: false, line: i, problem };
  }
  if (expectedHead !== undefined && expectedHead !== prev) {
    const last = lines.length;
    const problem =
      last === 0
        ? `the log is empty, but its head should be ${expectedHead}: records were removed`
        : `line ${last} is not the head the flag records (${expectedHead}): line ${last} was changed, or the lines after it were removed`;
    return { ok: false, line: Math.max(last, 1), problem };
  }
  return { ok: true, records, hashes, head: prev };
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** Gives a record's time when its entry has none. Default: the system clock. */
  readonly clock?: Clock;
  /** The largest log {@link AuditLog.read} reads, in bytes. Default 64 MiB. */
  readonly maxBytes?: number;
  /** The largest record (one line), in bytes. Default 4 MiB. */
  readonly maxRecordBytes?: number;
  /** Flush every record to disk before `append` resolves. Default true. */
  readonly sync?: boolean;
}

const SYSTEM_CLOCK: Clock = { now: () => Date.now() };

/** The end of the chain: the last record's hash and number, and the file they were read from. */
interface Tail {
  readonly head: string;
  readonly seq: number;
  /** `ino:size:mtime` of the file when it ended with this record. */
  readonly signature: string;
}

const signatureOf = (s: { ino: number; size: number; mtimeMs: number }) =>
  `${s.ino}:${s.size}:${s.mtimeMs}`;

/** The work in progress per log file, so appends and reads through any log in this process take turns. */
const queues = new Map<string, Promise<void>>();

function serialised<T>(path: string, task: () => Promise<T>): Promise<T> {
  const next = (queues.get(path) ?? Promise.resolve()).then(task);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(path, settled);
  void settled.then(() => {
    if (queues.get(path) === settled) queues.delete(path); // the map holds only busy files
  });
  return next;
}

/** Reads `length` bytes at `position`; fewer only where the file ends. */
async function readAt(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break; // the file ended: each round reads at least a byte, or stops
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * A rollout's audit log: append-only JSONL, one {@link AuditRecord} per line, each carrying the
 * SHA-256 of the line before it, so a changed, removed or reordered line breaks the chain
 * ({@link verifyAudit}). The file is created with mode 0600 and only ever appended to (O_APPEND);
 * appends through any `AuditLog` on one path in this process are serialised, and appends from
 * other processes take turns through a lock file beside the log (`<path>.lock`), so two never
 * interleave or chain to the same record. Each append reads the end of the file first (unless it
 * is as this log left it), so records another process appended are chained to, not overwritten.
 *
 * @example
 * const log = new AuditLog('rollouts.audit.jsonl');
 * const head = await log.append({ actor: 'ci', rolloutId: 'r1', flag: 'checkout', action: 'kill',
 *   changed: true, reason: 'incident 42', evidence: null, before, after });
 * const check = verifyAudit(await log.read(), head); // { ok: true, records, head }
 */
export class AuditLog {
  readonly path: string;
  readonly #clock: Clock;
  readonly #maxBytes: number;
  readonly #maxRecordBytes: number;
  readonly #sync: boolean;
  #tail: Tail | undefined;

  constructor(path: string, options: AuditLogOptions = {}) {
    this.path = resolve(path);
    this.#clock = options.clock ?? SYSTEM_CLOCK;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxRecordBytes = options.maxRecordBytes ?? 4 * 1024 * 1024;
    this.#sync = options.sync ?? true;
  }

  /**
   * Appends one record, chained to the last one, and resolves with its hash: the new head (keep
   * it, e.g. in the flag's `rollout.audit`, so a removed last line is noticed). Rejects with an
   * {@link AuditLogError}, writing nothing, when the log ends in a cut-off or broken line, or the
   * record is over the size limit or not JSON.
   */
  append(entry: AuditEntry): Promise<string> {
    return this.appendAll([entry]).then((heads) => heads[0] as string);
  }

  /**
   * Appends records in order, each chained to the one before, under one lock and one write and
   * sync (a change of many flags costs one disk flush, not one per flag); resolves with each
   * record's hash, the last being the new head. All or nothing: a record that cannot be written
   * rejects the call before anything is.
   */
  appendAll(entries: readonly AuditEntry[]): Promise<string[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return serialised(this.path, () => this.#append(entries));
  }

  /** The log's text ('' when there is none yet); an {@link AuditLogError} past the size limit. */
  read(): Promise<string> {
    return serialised(this.path, () => this.#read());
  }

  /** {@link verifyAudit} over the log as it is now. */
  async verify(expectedHead?: string): Promise<AuditVerification> {
    return verifyAudit(await this.read(), expectedHead);
  }

  /** Holds `<path>.lock` from reading the tail to appending: no other process chains in between. */
  async #append(entries: readonly AuditEntry[]): Promise<string[]> {
    try {
      return await withFileLock(this.path, () => this.#appendLocked(entries));
    } catch (error) {
      if (isAuditLogError(error)) throw error;
      throw new AuditLogError(`cannot append to audit log ${this.path}: ${String(error)}`, {
        cause: error,
      });
    }
  }

  async #appendLocked(entries: readonly AuditEntry[]): Promise<string[]> {
    const handle = await open(this.path, 'a+', 0o600).catch((error: unknown) => {
      throw new AuditLogError(`cannot open audit log ${this.path}: ${String(error)}`, {
        cause: error,
      });
    });
    try {
      const stats = await handle.stat();
      const tail =
        this.#tail?.signature === signatureOf(stats)
          ? this.#tail
          : await this.#readTail(handle, stats.size);
      const lines: string[] = [];
      const heads: string[] = [];
      let last: Omit<Tail, 'signature'> = tail;
      for (const entry of entries) {
        const line = this.#line(entry, last);
        last = { head: hashLine(line), seq: last.seq + 1 };
        lines.push(line);
        heads.push(last.head);
      }
      const text = lines.join('\n') + '\n';
      await handle.appendFile(text, 'utf8');
      if (this.#sync) await handle.datasync();
      const now = await handle.stat();
      const alone = now.size === stats.size + Buffer.byteLength(text);
      this.#tail = alone ? { ...last, signature: signatureOf(now) } : undefined;
      return heads;
    } finally {
      await handle.close();
    }
  }

  /** The record for `entry` after `tail`, as one line of JSON. */
  #line(entry: AuditEntry, tail: Tail | Omit<Tail, 'signature'>): string {
    const record: AuditRecord = {
      time: entry.time ?? new Date(this.#clock.now()).toISOString(),
      actor: entry.actor,
      rolloutId: entry.rolloutId,
      flag: entry.flag,
      action: entry.action,
      changed: entry.changed,
      reason: entry.reason,
      evidence: entry.evidence,
      before: entry.before,
      after: entry.after,
      seq: tail.seq + 1,
      prev: tail.head,
    };
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch (error) {
      throw new AuditLogError(`the audit record is not JSON: ${String(error)}`, { cause: error });
    }
    const problem = recordProblem(JSON.parse(line));
    if (problem !== undefined) throw new AuditLogError(`not an audit record: ${problem}`);
    const bytes = Buffer.byteLength(line);
    if (bytes > this.#maxRecordBytes)
      throw new AuditLogError(
        `the audit record is ${bytes} bytes, over the limit of ${this.#maxRecordBytes}`,
      );
    return line;
  }

  /** The last record's hash and number, read from the end of the file. */
  async #readTail(handle: FileHandle, size: number): Promise<Omit<Tail, 'signature'>> {
    if (size === 0) return { head: GENESIS, seq: 0 };
    const length = Math.min(size, this.#maxRecordBytes + 1);
    const buffer = await readAt(handle, length, size - length);
    if (buffer.length !== length || buffer[length - 1] !== 0x0a)
      throw new AuditLogError(
        `the audit log ${this.path} ends in a cut-off line (a write was interrupted): verify it and repair it before appending`,
      );
    const start = length < 2 ? 0 : buffer.lastIndexOf(0x0a, length - 2) + 1;
    if (start === 0 && length < size)
      throw new AuditLogError(
        `the last line of the audit log ${this.path} is over ${this.#maxRecordBytes} bytes`,
      );
    const line = buffer.subarray(start, length - 1);
    let problem: string | undefined;
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8'));
      problem = recordProblem(value);
    } catch {
      problem = 'not JSON';
    }
    if (problem !== undefined)
      throw new AuditLogError(
        `the last line of the audit log ${this.path} is not an audit record (${problem}): verify the log`,
      );
    return { head: hashLine(line), seq: (value as AuditRecord).seq };
  }

  async #read(): Promise<string> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw new AuditLogError(`cannot read audit log ${this.path}: ${String(error)}`, {
        cause: error,
      });
    }
    try {
      const { size } = await handle.stat();
      if (size > this.#maxBytes)
        throw new AuditLogError(
          `the audit log ${this.path} is ${size} bytes, over the limit of ${this.#maxBytes}: start a new log (keeping this one) or raise maxBytes`,
        );
      return (await readAt(handle, size, 0)).toString('utf8');
    } finally {
      await handle.close();
    }
  }
}
