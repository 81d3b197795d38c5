import { readFile } from 'node:fs/promises';

/** How a replica is asked: flagd's evaluation API (Connect JSON) or OFREP. */
export type VerifyProtocol = 'evaluation' | 'ofrep';

/** One replica to evaluate against. */
export interface Replica {
  /** The base URL as given (a protocol prefix aside), e.g. `http://10.0.0.7:8013`. */
  readonly url: string;
  readonly protocol: VerifyProtocol;
}

/** Replicas listed in one file are at most this many. */
export const MAX_REPLICAS = 1000;

const PREFIX = /^(evaluation|ofrep)\+/;

/**
 * A replica from a base URL: `http(s)://host:port[/prefix]`, with `--protocol`'s choice, unless the
 * URL says its own with a prefix, `ofrep+http://host:8016` or `evaluation+http://host:8013`.
 * Throws a RangeError naming `origin` for anything else.
 */
export function replicaOf(text: string, protocol: VerifyProtocol, origin: string): Replica {
  const prefix = PREFIX.exec(text);
  const url = (prefix === null ? text : text.slice(prefix[0].length)).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`${origin}: "${text}" is not a URL such as http://host:8013`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new RangeError(`${origin}: "${text}" is not an http:// or https:// base URL`);
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '')
    throw new RangeError(`${origin}: "${text}": a base URL has no query, fragment or credentials`);
  return { url, protocol: (prefix?.[1] as VerifyProtocol | undefined) ?? protocol };
}

/**
 * The replicas a file lists: one base URL per line; blank lines and `#` comments (whole lines or
 * after the URL) are skipped. Throws a RangeError naming the file and line.
 */
export function parseReplicaList(text: string, file: string, protocol: VerifyProtocol): Replica[] {
  const replicas: Replica[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const url = line.replace(/(^|\s)#.*$/, '').trim();
    if (url === '') return;
    if (replicas.length >= MAX_REPLICAS)
      throw new RangeError(`${file}: more than ${MAX_REPLICAS} replicas`);
    replicas.push(replicaOf(url, protocol, `${file}:${i + 1}`));
  });
  return replicas;
}

/** The replicas of `--replicas <file>` and every `--replica <url>`, each once; throws a RangeError. */
export async function readReplicas(
  file: string | undefined,
  urls: readonly string[],
  protocol: VerifyProtocol,
): Promise<Replica[]> {
  const listed: Replica[] = [];
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new RangeError(`--replicas: cannot read ${file}: ${code}`);
    }
    listed.push(...parseReplicaList(text, file, protocol));
  }
  listed.push(...urls.map((url) => replicaOf(url, protocol, '--replica')));
  const seen = new Set<string>();
  const replicas = listed.filter((r) => !seen.has(r.url) && seen.add(r.url) !== undefined);
  if (replicas.length === 0)
    throw new RangeError(
      file === undefined
        ? 'name the replicas: --replicas <file> or --replica <url>'
        : `${file} lists no replica`,
    );
  return replicas;
}
