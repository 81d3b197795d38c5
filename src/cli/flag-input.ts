import { readFile } from 'node:fs/promises';
import { fetchAllFlags } from '../grpc/fetch-all.js';
import { DEFAULT_LIMITS, readInput } from '../evaluator/load.js';
import { mergeSources, namingSource, readSourceDoc } from '../server/flag-sets.js';

/** One configuration a command read: where from, and its text as it came. */
export interface FlagInput {
  /** The file's path, or the server's URL. */
  readonly origin: string;
  /** As read: JSON or YAML for a file, JSON from a server. */
  readonly text: string;
}

/** The environment's token for a server's management API (`RAMPFLAG_TOKEN`, else `RAMPFLAG_ADMIN_TOKEN`). */
export function tokenOf(env: NodeJS.ProcessEnv): string | undefined {
  const token = env['RAMPFLAG_TOKEN'] || env['RAMPFLAG_ADMIN_TOKEN'];
  return token === undefined || token === '' ? undefined : token;
}

/**
 * `url` as `--from` takes it: grpc(s):// or http(s)://. Throws an Error saying what is wrong
 * otherwise.
 */
export function serverUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--from "${url}" is not a URL (grpc://host:8015 or http://host:8014)`);
  }
  if (!['grpc:', 'grpcs:', 'http:', 'https:'].includes(parsed.protocol))
    throw new Error(
      `--from "${url}": use grpc://host:port (FetchAllFlags) or http://host:port (the management API)`,
    );
  return parsed;
}

/**
 * The configuration a live server holds:
 * - `grpc://host:port` (or `grpcs://`): flagd's `FetchAllFlags`, from flagd or `rampflag serve`
 *   (`?selector=` picks a source or flag set);
 * - `http://host:port` (or `https://`): a `rampflag serve` management API's `GET /admin/flags`,
 *   with a token with the `read` role from `RAMPFLAG_TOKEN` (`?source=` names a source).
 * Rejects with an Error naming the server and what went wrong.
 */
export async function readFromServer(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FlagInput> {
  const parsed = serverUrl(url);
  if (parsed.protocol === 'grpc:' || parsed.protocol === 'grpcs:') {
    const selector = parsed.searchParams.get('selector');
    const text = await fetchAllFlags({
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port === '' ? 8015 : Number(parsed.port),
      tls: parsed.protocol === 'grpcs:',
      deadlineMs: 10_000, // a remote server: the provider's 500 ms default is for a sidecar
      ...(selector === null ? {} : { selector }),
    });
    return { origin: url, text };
  }
  // http: or https:, the others serverUrl refused
  const source = parsed.searchParams.get('source');
  const base = `${parsed.origin}${parsed.pathname.replace(/\/(admin\/flags)?\/?$/, '')}`;
  const target = `${base}/admin/flags${source === null ? '' : `?source=${encodeURIComponent(source)}`}`;
  const token = tokenOf(env);
  const res = await fetch(target, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  }).catch((error: unknown) => {
    // fetch says "fetch failed"; the reason (ECONNREFUSED, a DNS failure) is its cause
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${target}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  });
  const text = await res.text();
  if (!res.ok) {
    const hint = res.status === 401 ? ' (set RAMPFLAG_TOKEN to a token with the read role)' : '';
    throw new Error(`${target} answered ${res.status}: ${text.slice(0, 500)}${hint}`);
  }
  return { origin: url, text };
}

/** Reads flag files (JSON or YAML, as they are), naming a file that cannot be read. */
export async function readFlagFiles(files: readonly string[]): Promise<FlagInput[]> {
  return Promise.all(
    files.map(async (file) => {
      try {
        return { origin: file, text: await readFile(file, 'utf8') };
      } catch (error) {
        throw new Error(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    }),
  );
}

/** Nothing: merged after the inputs, it makes one input come out as several do. */
const NOTHING: FlagInput = { origin: '(nothing)', text: '{"flags":{}}' };

/**
 * The configuration several inputs serve together, as `rampflag serve` and flagd merge sources (a
 * flag key defined twice takes the later input's flag), as JSON text in the served form, for one
 * input too: `{"flags": {…}}` by key, shared evaluators inlined, each flag carrying its flag set's
 * metadata under its own. Throws `InvalidConfigurationError` naming the input for a bad one.
 */
export function mergeInputs(inputs: readonly FlagInput[]): string {
  const docs = inputs.map((input) => {
    const doc = readSourceDoc(input.origin, input.text);
    // merging keeps only the flags: check each input's structure whole first, as the server does
    namingSource(input.origin, () => readInput(doc.json, DEFAULT_LIMITS));
    return doc;
  });
  return mergeSources([...docs, readSourceDoc(NOTHING.origin, NOTHING.text)]);
}
