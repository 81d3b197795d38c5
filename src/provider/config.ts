import type { EvaluationContext, TrackingEventDetails } from '@openfeature/core';

/** How the provider gets its flags. `file` is flagd's offline mode. */
export type ResolverType = 'rpc' | 'in-process' | 'file';
/** The RPC resolver's cache of static flags. */
export type CacheType = 'lru' | 'disabled';

/**
 * The options of `FlagdProvider`: the same names, defaults and `FLAGD_*` environment variables as
 * `@openfeature/flagd-provider` and flagd's provider specification.
 */
export interface FlagdProviderOptions {
  /** `rpc`, `in-process` or `file` (env `FLAGD_RESOLVER`, any case). Default `rpc`. */
  readonly resolverType?: ResolverType;
  /** The testbed's name for {@link FlagdProviderOptions.resolverType}. */
  readonly resolver?: ResolverType;
  readonly host?: string;
  /** Default 8013 for `rpc`, 8015 for `in-process` (env `FLAGD_PORT`; `FLAGD_SYNC_PORT` wins in-process). */
  readonly port?: number;
  /**
   * A gRPC target instead of host and port: `dns:`, `ipv4:`, `unix:` as gRPC knows them, and flagd's
   * `envoy://<proxy host:port>/<service authority>`, which connects to the proxy and sends the
   * service name as the `:authority` the proxy routes on.
   */
  readonly targetUri?: string;
  /** The `:authority` to send, for a proxy that routes on it (env `FLAGD_DEFAULT_AUTHORITY`). */
  readonly defaultAuthority?: string;
  readonly tls?: boolean;
  readonly socketPath?: string;
  readonly certPath?: string;
  /** Unary deadline and initialisation timeout. Default 500. */
  readonly deadlineMs?: number;
  readonly streamDeadlineMs?: number;
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
  /** Seconds from STALE to ERROR after a disconnect. Default 5. */
  readonly retryGracePeriod?: number;
  readonly keepAliveTime?: number;
  readonly cache?: CacheType;
  readonly maxCacheSize?: number;
  readonly selector?: string;
  readonly providerId?: string;
  /** A flag file: the provider runs in `file` mode. */
  readonly offlineFlagSourcePath?: string;
  /** How often the flag file is checked when file watching misses a change. Default 5000. */
  readonly offlinePollIntervalMs?: number;
  readonly fatalStatusCodes?: readonly string[];
  /** Maps the sync context to context merged into every evaluation. Default: the sync context. */
  readonly contextEnricher?: (syncContext: EvaluationContext | null) => EvaluationContext;
}

/**
 * Where the provider sends what experiments are measured by: each exposure (an experiment flag's
 * targeting assigning a variant) and each tracked event. A `TrackingRecorder` from
 * `rampflag/experiment` is one. Both calls return at once and never throw.
 */
export interface ExperimentTracking {
  /** An evaluation of experiment flag `flagKey` assigned `variant` by targeting (TARGETING_MATCH). */
  exposure(flagKey: string, variant: string, context: EvaluationContext): void;
  /** A tracked event (`client.track(eventName, context, details)`), with the flags it may count for. */
  event(
    eventName: string,
    context: EvaluationContext,
    details: TrackingEventDetails,
    experiments: ExperimentAssignments,
  ): void;
}

/** The experiment flags in service, and the variant each assigns a tracked event's context. */
export interface ExperimentAssignments {
  /** The flags that are experiments in the configuration in service. */
  readonly flags: readonly string[];
  /**
   * The variant the flag's targeting assigns the event's context, recomputed by the provider's
   * evaluator; `undefined` when targeting assigns none (the user falls through to the default
   * variant, is outside the audience, or the flag is disabled or broken).
   */
  assign(flagKey: string): string | undefined;
}

/** Every option with its value after options, environment and defaults are applied. */
export interface FlagdConfig {
  readonly resolverType: ResolverType;
  readonly host: string;
  readonly port: number;
  readonly targetUri: string | null;
  readonly defaultAuthority: string | null;
  readonly tls: boolean;
  readonly socketPath: string | null;
  readonly certPath: string | null;
  readonly deadlineMs: number;
  readonly streamDeadlineMs: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly retryGracePeriod: number;
  readonly keepAliveTime: number;
  readonly cache: CacheType;
  readonly maxCacheSize: number;
  readonly selector: string | null;
  readonly providerId: string | null;
  readonly offlineFlagSourcePath: string | null;
  readonly offlinePollIntervalMs: number;
  readonly fatalStatusCodes: readonly string[];
  readonly contextEnricher: (syncContext: EvaluationContext | null) => EvaluationContext;
}

/** A configuration that cannot work, with the option or variable named. */
export class FlagdConfigError extends Error {
  override readonly name = 'FlagdConfigError';
}

type Kind = 'string' | 'int' | 'bool' | 'list' | 'resolver' | 'cache';
type Key = Exclude<keyof FlagdConfig, 'contextEnricher' | 'port'>;

/** Each option: its kind, environment variable and default (from flagd's option table). */
const TABLE = {
  resolverType: ['resolver', 'FLAGD_RESOLVER', 'rpc'],
  host: ['string', 'FLAGD_HOST', 'localhost'],
  targetUri: ['string', 'FLAGD_TARGET_URI', null],
  defaultAuthority: ['string', 'FLAGD_DEFAULT_AUTHORITY', null],
  tls: ['bool', 'FLAGD_TLS', false],
  socketPath: ['string', 'FLAGD_SOCKET_PATH', null],
  certPath: ['string', 'FLAGD_SERVER_CERT_PATH', null],
  deadlineMs: ['int', 'FLAGD_DEADLINE_MS', 500],
  streamDeadlineMs: ['int', 'FLAGD_STREAM_DEADLINE_MS', 600_000],
  retryBackoffMs: ['int', 'FLAGD_RETRY_BACKOFF_MS', 1000],
  retryBackoffMaxMs: ['int', 'FLAGD_RETRY_BACKOFF_MAX_MS', 12_000],
  retryGracePeriod: ['int', 'FLAGD_RETRY_GRACE_PERIOD', 5],
  keepAliveTime: ['int', 'FLAGD_KEEP_ALIVE_TIME_MS', 0],
  cache: ['cache', 'FLAGD_CACHE', 'lru'],
  maxCacheSize: ['int', 'FLAGD_MAX_CACHE_SIZE', 1000],
  selector: ['string', 'FLAGD_SOURCE_SELECTOR', null],
  providerId: ['string', 'FLAGD_PROVIDER_ID', null],
  offlineFlagSourcePath: ['string', 'FLAGD_OFFLINE_FLAG_SOURCE_PATH', null],
  offlinePollIntervalMs: ['int', 'FLAGD_OFFLINE_POLL_MS', 5000],
  fatalStatusCodes: ['list', 'FLAGD_FATAL_STATUS_CODES', []],
} as const satisfies Record<Key, readonly [Kind, string, unknown]>;

const RESOLVERS: readonly string[] = ['rpc', 'in-process', 'file'];

/** Reads one environment variable as `kind`; a malformed value is an error naming it. */
function fromEnv(kind: Kind, name: string, raw: string): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'int': {
      if (!/^-?\d+$/.test(text)) throw new FlagdConfigError(`${name}: "${raw}" is not an integer`);
      return Number(text);
    }
    case 'bool':
      if (!/^(true|false)$/i.test(text))
        throw new FlagdConfigError(`${name}: "${raw}" is not true or false`);
      return text.toLowerCase() === 'true';
    case 'list':
      return text
        .split(',')
        .map((code) => code.trim())
        .filter((code) => code !== '');
    case 'resolver':
      return checkResolver(text.toLowerCase(), name);
    case 'cache':
      if (text !== 'lru' && text !== 'disabled')
        throw new FlagdConfigError(`${name}: "${raw}" is not lru or disabled`);
      return text;
    default:
      return text;
  }
}

function checkResolver(value: unknown, where: string): ResolverType {
  if (typeof value !== 'string' || !RESOLVERS.includes(value)) {
    throw new FlagdConfigError(
      `${where}: ${JSON.stringify(value)} is not one of ${RESOLVERS.join(', ')}`,
    );
  }
  return value as ResolverType;
}

/**
 * The provider's configuration: each option from `options`, else its `FLAGD_*` variable, else
 * flagd's default. flagd's rules apply: `in-process` with an `offlineFlagSourcePath` becomes
 * `file` (and so does no resolver at all, where flagd's `rpc` would ignore the path); `file` without a path is an error; the port defaults by resolver, and `FLAGD_SYNC_PORT`
 * wins over `FLAGD_PORT` for `in-process`. Throws {@link FlagdConfigError}.
 */
export function resolveConfig(
  options: FlagdProviderOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): FlagdConfig {
  const values: Record<string, unknown> = {};
  for (const [key, [kind, envName, fallback]] of Object.entries(TABLE)) {
    const given =
      key === 'resolverType' ? (options.resolverType ?? options.resolver) : options[key as Key];
    const raw = env[envName];
    values[key] =
      given !== undefined
        ? given
        : raw !== undefined && raw !== ''
          ? fromEnv(kind, envName, raw)
          : fallback;
  }
  let resolverType = checkResolver(values['resolverType'], 'resolverType');
  const resolverGiven =
    (options.resolverType ?? options.resolver) !== undefined ||
    (env['FLAGD_RESOLVER'] ?? '') !== '';
  // a flag file and no resolver asked for: file mode, as the path says (rpc would ignore it)
  if ((resolverType === 'in-process' || !resolverGiven) && values['offlineFlagSourcePath'] !== null)
    resolverType = 'file';
  if (resolverType === 'file' && values['offlineFlagSourcePath'] === null) {
    throw new FlagdConfigError(
      'resolverType "file" needs offlineFlagSourcePath (or FLAGD_OFFLINE_FLAG_SOURCE_PATH)',
    );
  }
  const port =
    options.port ?? portFromEnv(resolverType, env) ?? (resolverType === 'rpc' ? 8013 : 8015);
  return {
    ...(values as Omit<FlagdConfig, 'resolverType' | 'port' | 'contextEnricher'>),
    resolverType,
    port,
    contextEnricher: options.contextEnricher ?? ((syncContext) => syncContext ?? {}),
  };
}

function portFromEnv(
  resolver: ResolverType,
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  const sync = resolver === 'in-process' ? env['FLAGD_SYNC_PORT'] : undefined;
  if (sync !== undefined && sync !== '') return fromEnv('int', 'FLAGD_SYNC_PORT', sync) as number;
  const port = env['FLAGD_PORT'];
  return port !== undefined && port !== ''
    ? (fromEnv('int', 'FLAGD_PORT', port) as number)
    : undefined;
}
