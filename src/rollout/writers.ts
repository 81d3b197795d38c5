import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { FlagNotFoundError } from '@openfeature/core';
import { InvalidConfigurationError, validateConfiguration } from '../evaluator/index.js';
import { isObject } from '../evaluator/json-path.js';
import { parseJsonText } from '../evaluator/json-limits.js';
import { parseConfigurationText } from '../evaluator/parse-text.js';
import { FileFlagSource } from '../sources/file.js';
import { isWriteConflictError, WriteConflictError } from '../sources/flag-source.js';
import type { InMemoryFlagSource } from '../sources/in-memory.js';
import { inFormatOf, isYamlText, WRITE_LIMITS } from '../sources/keep-format.js';

/** Where a rollout reads and writes its flag's configuration: the source of truth. */
export interface FlagWriter {
  /** A description for messages and the audit log, e.g. `file flags.yaml` or `admin http://localhost:8014`. */
  readonly target: string;
  /** The whole configuration as JSON text, with a version token for compare-and-swap. */
  read(): Promise<{ readonly configuration: string; readonly version: string }>;
  /**
   * Replaces the whole configuration (JSON text) if it is still at `version`; rejects with a
   * `WriteConflictError` (see `isWriteConflictError`) otherwise, writing nothing. Resolves with the
   * new version.
   */
  write(configuration: string, version: string): Promise<{ readonly version: string }>;
}

/** A flag's definition as the configuration holds it. */
export type FlagJson = Readonly<Record<string, unknown>>;

/** What {@link updateFlag} did. */
export interface FlagUpdate {
  /** The flag as it was read (on the attempt that counted). */
  readonly before: FlagJson;
  /** The flag as it is now: `before` when nothing changed. */
  readonly after: FlagJson;
  /** Whether anything was written. */
  readonly changed: boolean;
  /** The configuration's version now: after the write, or as read when nothing changed. */
  readonly version: string;
}

/** Options of {@link updateFlag}. */
export interface UpdateFlagOptions {
  /** How many times to re-read and re-apply after a conflicting write. Default 5. */
  readonly retries?: number;
}

/** SHA-256 (hex) of a stored text: the version of a file or an in-memory source. */
const versionOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The parsed document and its flags, or an Error naming what is wrong. */
function documentOf(configuration: string, target: string): Readonly<Record<string, unknown>> {
  const doc = parseJsonText(configuration, WRITE_LIMITS);
  if (!isObject(doc) || !isObject(doc['flags']))
    throw new Error(`the configuration in ${target} has no "flags" object`);
  return doc;
}

/** `doc` with `flags[key]` replaced, keys in their order; `__proto__` keys stay keys. */
function withFlag(doc: Readonly<Record<string, unknown>>, key: string, flag: FlagJson): object {
  const flags = Object.entries(doc['flags'] as object).map(([k, v]) => [k, k === key ? flag : v]);
  return Object.fromEntries(
    Object.entries(doc).map(([k, v]) => [k, k === 'flags' ? Object.fromEntries(flags) : v]),
  );
}

/**
 * Changes one flag, compare-and-swap: reads the configuration, gives the flag (and the whole
 * document) to `update`, and writes what it returns if the configuration is still as read. On a
 * conflict it reads again and applies `update` again, up to `retries` times, then rejects with
 * the `WriteConflictError`. `update` returning undefined, or a flag equal to the one it was given,
 * writes nothing (`changed: false`): an idempotent action stays one. Every other flag, and
 * everything else in the document, is written back as read. Rejects with a `FlagNotFoundError`
 * when the flag is not there.
 *
 * @example
 * const { before, after, changed } = await updateFlag(fileWriter('flags.yaml'), 'checkout', (flag) =>
 *   ({ ...flag, defaultVariant: 'off', targeting: {} }));
 */
export async function updateFlag(
  writer: FlagWriter,
  flagKey: string,
  update: (
    flag: FlagJson,
    configuration: Readonly<Record<string, unknown>>,
  ) => FlagJson | undefined,
  { retries = 5 }: UpdateFlagOptions = {},
): Promise<FlagUpdate> {
  for (let attempt = 0; ; attempt++) {
    const { configuration, version } = await writer.read();
    const doc = documentOf(configuration, writer.target);
    const flags = doc['flags'] as Record<string, unknown>;
    const before = Object.hasOwn(flags, flagKey) ? flags[flagKey] : undefined;
    if (!isObject(before)) throw new FlagNotFoundError(`no flag "${flagKey}" in ${writer.target}`);
    const after = update(before, doc);
    if (after !== undefined && !isObject(after))
      throw new TypeError(`the update of flag "${flagKey}" gave ${typeof after}, not a flag`);
    if (after === undefined || isDeepStrictEqual(after, before))
      return { before, after: before, changed: false, version };
    try {
      const written = await writer.write(JSON.stringify(withFlag(doc, flagKey, after)), version);
      return { before, after, changed: true, version: written.version };
    } catch (error) {
      if (!isWriteConflictError(error)) throw error;
      if (attempt >= retries)
        throw new WriteConflictError(
          `flag "${flagKey}" in ${writer.target} changed under every one of ${attempt + 1} attempts to update it`,
          { cause: error },
        );
    }
  }
}

/**
 * A flag file (JSON or YAML) as the source of truth, through {@link FileFlagSource}: the version is
 * the SHA-256 of the file's text, a write is compare-and-swap against that text at the moment of
 * the rename, atomic, through symlinks, with the file's mode, and in the file's format (JSON in its
 * indentation, YAML as YAML with its comments), so one changed weight is a one-line diff. A YAML
 * file's configuration is read as JSON. A configuration the evaluator refuses is not written
 * (`InvalidConfigurationError`), as the admin API refuses it.
 */
export function fileWriter(path: string): FlagWriter {
  const source = new FileFlagSource(path);
  const readText = async (): Promise<string> => {
    const { size } = await stat(source.path).catch((error: unknown) => {
      throw new Error(`cannot read flag file ${path}: ${String(error)}`, { cause: error });
    });
    if (size > WRITE_LIMITS.maxBytes)
      throw new Error(
        `flag file ${path} is ${size} bytes, over the limit of ${WRITE_LIMITS.maxBytes}`,
      );
    return source.read();
  };
  return {
    target: `file ${path}`,
    async read() {
      const text = await readText();
      const doc = parseConfigurationText(text, WRITE_LIMITS); // bounded; throws when invalid
      const configuration = isYamlText(text, source.path) ? JSON.stringify(doc) : text;
      return { configuration, version: versionOf(text) };
    },
    async write(configuration, version) {
      // A file is read by every process that starts: nothing it would refuse is written to it.
      const errors = validateConfiguration(configuration).filter((i) => i.severity === 'error');
      if (errors.length > 0) throw new InvalidConfigurationError(errors);
      const current = await readText();
      if (versionOf(current) !== version) throw new WriteConflictError();
      await source.write(configuration, { expected: current });
      // What the source wrote: the same pure function of the same inputs.
      const real = await realpath(source.path).catch(() => source.path);
      return { version: versionOf(inFormatOf(current, configuration, real)) };
    },
  };
}

/**
 * An {@link InMemoryFlagSource} as the source of truth: the version is the SHA-256 of its JSON
 * text, a write compare-and-swap against it.
 */
export function memoryWriter(source: InMemoryFlagSource): FlagWriter {
  return {
    target: 'memory',
    async read() {
      const configuration = await source.read();
      return { configuration, version: versionOf(configuration) };
    },
    async write(configuration, version) {
      const current = await source.read();
      if (versionOf(current) !== version) throw new WriteConflictError();
      // The source checks and stores synchronously when `write` is called, so the `read` started
      // right after it sees exactly what this write stored, before any other write can run.
      const written = source.write(configuration, { expected: current });
      const stored = source.read();
      await written;
      return { version: versionOf(await stored) };
    },
  };
}

/** Options of {@link adminWriter}. */
export interface AdminWriterOptions {
  /** A bearer token with the `rollout` role (or `admin`); a loopback server may need none. */
  readonly token?: string;
  /** The source to read and write, for a server with several (`?source=`). */
  readonly source?: string;
  /** How long one request may take, body included. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** The largest response body read, in bytes. Default 16 MiB. */
  readonly maxBytes?: number;
}

/** The admin endpoint under `url` (a server's management address, or the endpoint itself). */
function adminEndpoint(url: string, source: string | undefined): URL {
  const endpoint = new URL(url);
  if (!endpoint.pathname.endsWith('/admin/flags'))
    endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/admin/flags`;
  if (source !== undefined) endpoint.searchParams.set('source', source);
  return endpoint;
}

/** A response's body as text, refused past `max` bytes. @internal */
export async function boundedText(res: Response, max: number, what: string): Promise<string> {
  const tooLarge = () => new Error(`${what} answered with a body over ${max} bytes`);
  if (Number(res.headers.get('content-length') ?? 0) > max) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let reads = 0; reads <= max; reads++) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  await reader.cancel();
  throw tooLarge();
}

/** The server's `error` message in a failed response's JSON body, or the body itself. */
function errorIn(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (isObject(parsed) && typeof parsed['error'] === 'string') return parsed['error'];
  } catch {
    // not JSON: the text says what it says
  }
  return body.slice(0, 200) || 'no message';
}

/**
 * A `rampflag serve` (or `FlagServer`) admin API as the source of truth: `GET /admin/flags` gives
 * the configuration and its `ETag` (the version), `PUT` with `If-Match` replaces it only if it is
 * still at that version (412 becomes a `WriteConflictError`). The server keeps the stored file's
 * format and pushes the change to every connected provider. Any other failure rejects with an
 * `Error` naming the status and the server's message; each request has a timeout.
 *
 * @example
 * const writer = adminWriter('http://localhost:8014', { token: process.env.RAMPFLAG_ADMIN_TOKEN });
 */
export function adminWriter(url: string, options: AdminWriterOptions = {}): FlagWriter {
  const endpoint = adminEndpoint(url, options.source);
  const shown = new URL(url); // credentials in the URL stay out of messages and the audit log
  shown.username = '';
  shown.password = '';
  const address = shown.href === `${url}/` ? url : shown.href;
  const target = `admin ${address}${options.source === undefined ? '' : ` source ${options.source}`}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const auth: Record<string, string> =
    options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` };

  const request = async (init: RequestInit): Promise<{ res: Response; body: string }> => {
    let res: Response;
    try {
      res = await fetch(endpoint, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      return { res, body: await boundedText(res, maxBytes, target) };
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new Error(`${target} did not answer within ${timeoutMs} ms`, { cause: error });
      const cause = (error as Error).cause;
      const why = cause instanceof Error ? cause.message : (error as Error).message;
      throw new Error(`cannot reach ${target}: ${why}`, { cause: error });
    }
  };
  const failure = (method: string, res: Response, body: string) =>
    new Error(
      `${target} answered ${method} with ${res.status}: ${errorIn(body)}${res.status === 401 ? ' (set RAMPFLAG_TOKEN to a token with the rollout role)' : ''}`,
    );

  return {
    target,
    async read() {
      const { res, body } = await request({ method: 'GET', headers: auth });
      if (!res.ok) throw failure('GET', res, body);
      const version = res.headers.get('etag');
      if (version === null) throw new Error(`${target} sent no ETag with the configuration`);
      return { configuration: body, version };
    },
    async write(configuration, version) {
      const headers = { ...auth, 'Content-Type': 'application/json', 'If-Match': version };
      const { res, body } = await request({ method: 'PUT', headers, body: configuration });
      // 423: a freeze began since the read; reading again shows it, and the step holds
      if (res.status === 412 || res.status === 423)
        throw new WriteConflictError(`${target}: ${errorIn(body)}`);
      if (!res.ok) throw failure('PUT', res, body);
      let etag: unknown;
      try {
        etag = (JSON.parse(body) as Record<string, unknown>)['etag'];
      } catch {
        etag = undefined;
      }
      const next = typeof etag === 'string' ? etag : res.headers.get('etag');
      if (next === null) throw new Error(`${target} sent no ETag for the configuration written`);
      return { version: next };
    },
  };
}
