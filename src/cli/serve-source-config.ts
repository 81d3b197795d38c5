/**
 * flagd's two ways of naming sync sources, read into one checked list: `--uri` (`-f`) URIs whose
 * prefix implies the provider, and `--sources` (`-s`), a JSON array of `SourceConfig` objects
 * (https://flagd.dev/reference/sync-configuration/). Pure: nothing is opened here.
 */

/** One source, checked. `uri` is also the name selectors use (`source=<uri>`), as flagd names it. */
export type SourceConfig =
  | { readonly provider: 'file'; readonly uri: string }
  | {
      readonly provider: 'http';
      readonly uri: string;
      readonly authHeader?: string;
      readonly bearerToken?: string;
      /** Seconds between polls (flagd's `interval`). */
      readonly interval?: number;
    }
  | {
      readonly provider: 'grpc';
      readonly uri: string;
      readonly tls: boolean;
      readonly certPath?: string;
      readonly selector?: string;
      readonly providerID?: string;
    };

/** flagd providers rampflag does not implement, and what to do instead. */
const ELSEWHERE: Readonly<Record<string, string>> = {
  kubernetes: 'FeatureFlag resources',
  gcs: 'Google Cloud Storage',
  azblob: 'Azure Blob Storage',
  s3: 'Amazon S3',
};

const refused = (provider: string, where: string) =>
  new RangeError(
    `${where}: rampflag cannot read ${ELSEWHERE[provider]} (flagd's "${provider}" provider); ` +
      'serve a file (file:), an http(s):// URL or a grpc(s):// sync server instead',
  );

/** The fields flagd's `SourceConfig` has, by provider (the rest are not read by that provider). */
const FIELDS: Readonly<Record<SourceConfig['provider'], readonly string[]>> = {
  file: ['uri', 'provider'],
  http: ['uri', 'provider', 'authHeader', 'bearerToken', 'interval'],
  grpc: ['uri', 'provider', 'tls', 'certPath', 'providerID', 'selector'],
};

/** flagd's provider names, as rampflag reads them (fsnotify and fileinfo are ways to watch a file). */
const PROVIDERS: Readonly<Record<string, SourceConfig['provider']>> = {
  file: 'file',
  fsnotify: 'file',
  fileinfo: 'file',
  http: 'http',
  grpc: 'grpc',
};

/** One `--uri`, by its prefix, as flagd reads it: `file:` and `grpc(s)://` are dropped from the name. */
export function parseUri(uri: string): SourceConfig {
  const where = `--uri ${uri}`;
  if (uri.startsWith('file:')) {
    const path = uri.slice('file:'.length);
    if (path === '') throw new RangeError(`${where}: name a file after file:`);
    return { provider: 'file', uri: path };
  }
  if (/^https?:\/\//i.test(uri)) return { provider: 'http', uri };
  const grpc = /^(grpcs?):\/\/(.*)$/i.exec(uri);
  if (grpc !== null)
    return { provider: 'grpc', uri: grpc[2] as string, tls: grpc[1]?.toLowerCase() === 'grpcs' };
  if (/^envoy:\/\//i.test(uri)) return { provider: 'grpc', uri, tls: false };
  if (uri.startsWith('core.openfeature.dev/')) throw refused('kubernetes', where);
  const blob = /^(gs|azblob|s3):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (blob !== undefined) throw refused(blob === 'gs' ? 'gcs' : blob, where);
  throw new RangeError(
    `${where}: start it with file:, http://, https://, grpc:// or grpcs:// (as flagd does); ` +
      'a flag file may also be given as an operand without file:',
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `entry[key]` when it is a string (or absent); throws naming the path otherwise. */
function text(entry: Record<string, unknown>, key: string, at: string): string | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new RangeError(`${at}.${key}: ${JSON.stringify(value)} is not a non-empty string`);
  return value;
}

/** One checked entry of `--sources`; `at` is its JSON path, e.g. `--sources[1]`. */
function readEntry(entry: unknown, at: string): SourceConfig {
  if (!isObject(entry)) throw new RangeError(`${at}: not an object with uri and provider`);
  const uri = text(entry, 'uri', at);
  const name = text(entry, 'provider', at);
  if (uri === undefined) throw new RangeError(`${at}.uri: required`);
  if (name === undefined) throw new RangeError(`${at}.provider: required`);
  if (ELSEWHERE[name] !== undefined) throw refused(name, `${at}.provider`);
  const provider = PROVIDERS[name];
  if (provider === undefined)
    throw new RangeError(`${at}.provider: "${name}" is not one of file, http, grpc`);
  const unknown = Object.keys(entry).find((key) => !FIELDS[provider].includes(key));
  if (unknown !== undefined)
    throw new RangeError(
      `${at}.${unknown}: not read by the ${provider} provider (it reads ${FIELDS[provider].join(', ')})`,
    );
  if (provider === 'file') return { provider, uri: uri.replace(/^file:/, '') };
  if (provider === 'http') return httpEntry(entry, uri, at);
  const tls = entry['tls'];
  if (tls !== undefined && typeof tls !== 'boolean')
    throw new RangeError(`${at}.tls: ${JSON.stringify(tls)} is not true or false`);
  const certPath = text(entry, 'certPath', at);
  const selector = text(entry, 'selector', at);
  const providerID = text(entry, 'providerID', at);
  return {
    provider,
    uri,
    tls: tls ?? /^grpcs:\/\//i.test(uri),
    ...(certPath === undefined ? {} : { certPath }),
    ...(selector === undefined ? {} : { selector }),
    ...(providerID === undefined ? {} : { providerID }),
  };
}

function httpEntry(entry: Record<string, unknown>, uri: string, at: string): SourceConfig {
  if (!/^https?:\/\//i.test(uri))
    throw new RangeError(`${at}.uri: an http source's uri is an http:// or https:// URL`);
  const authHeader = text(entry, 'authHeader', at);
  const bearerToken = text(entry, 'bearerToken', at);
  if (authHeader !== undefined && bearerToken !== undefined)
    throw new RangeError(`${at}: authHeader and bearerToken are both set; give one (as flagd)`);
  const interval = entry['interval'];
  if (interval !== undefined && !(Number.isInteger(interval) && (interval as number) >= 1))
    throw new RangeError(
      `${at}.interval: ${JSON.stringify(interval)} is not a whole number of seconds`,
    );
  return {
    provider: 'http',
    uri,
    ...(authHeader === undefined ? {} : { authHeader }),
    ...(bearerToken === undefined ? {} : { bearerToken }),
    ...(interval === undefined ? {} : { interval: interval as number }),
  };
}

/**
 * `--sources` (or `RAMPFLAG_SOURCES`, named by `origin`): a JSON array of flagd `SourceConfig`
 * objects. Throws a RangeError naming the JSON path of what is wrong.
 */
export function parseSources(json: string, origin: string): SourceConfig[] {
  let entries: unknown;
  try {
    entries = JSON.parse(json);
  } catch (error) {
    // V8 may quote the text around the error, and the text may hold a credential: say where only
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new RangeError(
      `${origin}: not valid JSON${position === undefined ? '' : ` (at character ${position})`}`,
    );
  }
  if (!Array.isArray(entries))
    throw new RangeError(`${origin}: a JSON array of {"uri": …, "provider": …} objects`);
  return entries.map((entry, index) => readEntry(entry, `${origin}[${index}]`));
}
