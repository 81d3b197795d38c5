import { GrpcSyncSource } from '../grpc/sync-source.js';
import { resolveConfig } from '../provider/config.js';
import { parseDuration } from '../rollout/duration.js';
import type { FlagServerSource } from '../server/flag-server.js';
import { isLoopbackHost } from '../server/http-util.js';
import { FileFlagSource } from '../sources/file.js';
import { HttpFlagSource } from '../sources/http.js';
import { parseSources, parseUri, type SourceConfig } from './serve-source-config.js';

/** A bearer token for every http(s) source that sets no `authHeader` or `bearerToken` of its own. */
export const SOURCE_TOKEN_ENV = 'RAMPFLAG_SOURCE_TOKEN';
/** `--sources` from the environment, where a credential in it is not in argv for every user to see. */
export const SOURCES_ENV = 'RAMPFLAG_SOURCES';
/** flagd's http sync polls every 5 s. */
const DEFAULT_POLL_MS = 5000;
/** flagd's sync port, for a grpc:// URI without one. */
const DEFAULT_SYNC_PORT = 8015;

/** The source arguments of `rampflag serve`, as given. */
export interface SourceArgs {
  /** Flag files given as operands. */
  readonly files: readonly string[];
  /** `--uri` (`-f`), repeatable. */
  readonly uris: readonly string[];
  /** `--sources` (`-s`): flagd's JSON array of source configurations. */
  readonly sources?: string | undefined;
  /** `--poll-interval`: between polls of an http(s) source without its own `interval`. */
  readonly pollInterval?: string | undefined;
}

/** The sources to serve, in merge order (a later source wins a flag key), and what to warn of. */
export interface ServeSources {
  readonly sources: FlagServerSource[];
  /** The first flag file, beside which the audit log goes by default; none without a file. */
  readonly firstFile: string | undefined;
  readonly warnings: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** flagd options that are gone, or that would put a credential in argv, and what to use instead. */
const FLAGD_ONLY: Readonly<Record<string, string>> = {
  '--bearer-token': `a token never goes in argv, which every user of this host can read: set ${SOURCE_TOKEN_ENV}, or authHeader in ${SOURCES_ENV}`,
  '--sync-provider-args': "flagd removed it: give a source's settings in --sources",
  '--sync-provider': 'flagd removed it: the --uri prefix or the --sources provider names it',
};

/** Throws a RangeError for an option flagd had (see {@link FLAGD_ONLY}), saying what to use. */
export function refuseFlagdOnlyOptions(args: readonly string[]): void {
  for (const arg of args) {
    if (arg === '--') return;
    const name = arg.replace(/=.*$/s, '');
    // an own key only: an argument such as `constructor` must not find Object.prototype's
    const hint = Object.hasOwn(FLAGD_ONLY, name) ? FLAGD_ONLY[name] : undefined;
    if (hint !== undefined) throw new RangeError(`${name}: ${hint}`);
  }
}

/** `--poll-interval`: a duration (`10s`, `500ms`) or whole seconds as flagd counts them. */
export function pollIntervalMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_POLL_MS;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  if (ms === undefined || ms < 100)
    throw new RangeError(
      `--poll-interval: "${value}" is not a duration of 100ms or more, e.g. 30s`,
    );
  return ms;
}

/**
 * Every source named by operands, `--uri`, then `--sources` (else `RAMPFLAG_SOURCES`), in that
 * order (as flagd appends `--sources` to `--uri`), checked. Throws a RangeError naming the
 * argument and the JSON path of what is wrong.
 */
export function sourceConfigs(
  args: SourceArgs,
  env: Env,
): { configs: SourceConfig[]; warnings: string[] } {
  const fromArgv = args.sources !== undefined;
  const json = args.sources ?? (env[SOURCES_ENV] || undefined);
  const configs: SourceConfig[] = [
    ...args.files.map((file) => ({ provider: 'file', uri: file }) as const),
    ...args.uris.map(parseUri),
    ...(json === undefined ? [] : parseSources(json, fromArgv ? '--sources' : SOURCES_ENV)),
  ];
  if (configs.length === 0)
    throw new RangeError('name one flag file or more, or a source with --uri or --sources');
  const names = configs.map((c) => c.uri);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new RangeError(`source "${twice}" is named twice`);
  const warnings: string[] = [];
  const credentialed = configs.filter(
    (c) => c.provider === 'http' && (c.authHeader ?? c.bearerToken),
  );
  if (fromArgv && credentialed.length > 0)
    warnings.push(
      `--sources holds a credential, and every user of this host can read argv: put the sources in ${SOURCES_ENV} instead`,
    );
  const token = env[SOURCE_TOKEN_ENV] || undefined;
  for (const c of configs) {
    if (c.provider !== 'http' || !/^http:/i.test(c.uri)) continue;
    const host = URL.canParse(c.uri) ? new URL(c.uri).hostname.replace(/^\[(.*)\]$/, '$1') : '';
    if ((c.authHeader ?? c.bearerToken ?? token) !== undefined && !isLoopbackHost(host))
      warnings.push(`${c.uri}: a credential goes to ${host} in clear text; use https://`);
  }
  return { configs, warnings };
}

/** `host:port` (or `[v6]:port`), as a sync client's host and port; throws naming the source. */
function hostAndPort(uri: string): { host: string; port: number } {
  const rest = uri.replace(/^grpcs?:\/\//i, '');
  const url = URL.canParse(`grpc://${rest}`) ? new URL(`grpc://${rest}`) : undefined;
  if (
    url === undefined ||
    url.hostname === '' ||
    !/^\/?$/.test(url.pathname) ||
    url.search ||
    url.username
  )
    throw new RangeError(
      `grpc source "${uri}": give host:port (a selector or provider id goes in --sources)`,
    );
  const port = url.port === '' ? DEFAULT_SYNC_PORT : Number(url.port);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** flagd's `grpc` sync: a `SyncFlags` stream from flagd or another `rampflag serve`. */
function grpcSource(config: Extract<SourceConfig, { provider: 'grpc' }>): GrpcSyncSource {
  const target = /^envoy:\/\//i.test(config.uri)
    ? { targetUri: config.uri }
    : hostAndPort(config.uri);
  const options = resolveConfig(
    {
      resolverType: 'in-process',
      ...target,
      tls: config.tls,
      ...(config.certPath === undefined ? {} : { certPath: config.certPath }),
      ...(config.selector === undefined ? {} : { selector: config.selector }),
      ...(config.providerID === undefined ? {} : { providerId: config.providerID }),
    },
    {}, // flagd's defaults: a provider's FLAGD_* variables are not this server's settings
  );
  return new GrpcSyncSource(options);
}

/** The source `config` names, under its uri; `token` is `RAMPFLAG_SOURCE_TOKEN`. */
export function buildSource(
  config: SourceConfig,
  settings: { readonly intervalMs: number; readonly token: string | undefined },
): FlagServerSource {
  const name = config.uri;
  if (config.provider === 'file') return { name, source: new FileFlagSource(config.uri) };
  if (config.provider === 'grpc') return { name, source: grpcSource(config) };
  const { authHeader, bearerToken, interval } = config;
  const token = bearerToken ?? settings.token;
  const auth =
    authHeader !== undefined ? { authHeader } : token !== undefined ? { bearerToken: token } : {};
  const intervalMs = interval === undefined ? settings.intervalMs : interval * 1000;
  return { name, source: new HttpFlagSource(config.uri, { ...auth, intervalMs }) };
}

/**
 * The sources `rampflag serve` serves: files (watched, and written by the admin API), http(s) URLs
 * (polled) and gRPC sync servers (streamed), in merge order. Throws a RangeError naming the bad
 * argument; nothing is opened until the server starts.
 */
export function serveSources(args: SourceArgs, env: Env): ServeSources {
  const { configs, warnings } = sourceConfigs(args, env);
  const settings = {
    intervalMs: pollIntervalMs(args.pollInterval),
    token: env[SOURCE_TOKEN_ENV] || undefined,
  };
  return {
    sources: configs.map((config) => buildSource(config, settings)),
    firstFile: configs.find((c) => c.provider === 'file')?.uri,
    warnings,
  };
}
