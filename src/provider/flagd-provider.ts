import type {
  EvaluationContext,
  FlagMetadata,
  JsonValue,
  Logger,
  Provider,
  ResolutionDetails,
  TrackingEventDetails,
} from '@openfeature/server-sdk';
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  StandardResolutionReasons,
} from '@openfeature/server-sdk';
import {
  createEvaluator,
  isInvalidConfigurationError,
  type ConfigurationInput,
  type Evaluator,
  type EvaluatorOptions,
  type FlagChanges,
} from '../evaluator/index.js';
import type { ResolveKind } from '../grpc/evaluation-wire.js';
import type { RpcListener, RpcResolver } from '../grpc/rpc-resolver.js';
import { FileFlagSource } from '../sources/file.js';
import type { FlagSource, FlagSourceSink } from '../sources/flag-source.js';
import {
  FlagdConfigError,
  resolveConfig,
  type ExperimentTracking,
  type FlagdConfig,
  type FlagdProviderOptions,
} from './config.js';

/** Options of {@link FlagdProvider}: flagd's, plus where flags come from and evaluator settings. */
export interface FlagdProviderSettings extends FlagdProviderOptions {
  /** Flags from this source (an `InMemoryFlagSource` in tests, say) instead of the resolver's. */
  readonly source?: FlagSource;
  /**
   * Clock, limits and `fractional` bucketing of the in-process evaluator: `{ fractional: 'v3' }`
   * buckets as flagd's v3 (CBOR-encoded bucketing values); v2, flagd's default, when left out.
   */
  readonly evaluator?: Omit<EvaluatorOptions, 'logger'>;
  /**
   * Where experiment exposures and `track` events go: a `TrackingRecorder` from
   * `rampflag/experiment`. Without it `track` does nothing.
   */
  readonly tracking?: ExperimentTracking;
  /**
   * Flags that are experiments besides those whose metadata (the flag's, or the flag set's) says
   * `"experiment": true`.
   */
  readonly experiments?: readonly string[];
}

/** The flag-metadata key that makes a flag an experiment (`"experiment": true`). */
const EXPERIMENT_METADATA = 'experiment';

type State = 'idle' | 'ready' | 'stale' | 'error';

/**
 * An OpenFeature server provider for flagd, a drop-in replacement for `@openfeature/flagd-provider`
 * in each of its modes: `rpc` (the default: flagd, or `rampflag serve`, evaluates; STATIC results
 * are cached), `in-process` (flagd's sync stream, evaluated here), `file` (`offlineFlagSourcePath`),
 * or fed by any {@link FlagSource}. Its metadata name is `flagd`, so dashboards that group by provider keep working.
 *
 * @example
 * await OpenFeature.setProviderAndWait(new FlagdProvider({ offlineFlagSourcePath: './flags.json' }));
 * const enabled = await OpenFeature.getClient().getBooleanValue('new-checkout', false, { targetingKey: 'user-42' });
 */
export class FlagdProvider implements Provider {
  readonly metadata = { name: 'flagd' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  /** The options in force, after environment variables and defaults. */
  readonly config: FlagdConfig;
  readonly #evaluator: Evaluator;
  /** The source, made on first initialisation (the gRPC one is loaded only when needed). */
  #source: FlagSource | undefined;
  readonly #makeSource: () => Promise<FlagSource>;
  /** `resolverType: 'rpc'` without a source: evaluations go to flagd's evaluation service. */
  readonly #rpcMode: boolean;
  #rpc: RpcResolver | undefined;
  readonly #logger: Logger | undefined;
  #enrichment: EvaluationContext | undefined;
  #state: State = 'idle';
  readonly #tracking: ExperimentTracking | undefined;
  readonly #experiments: ReadonlySet<string>;
  /** The experiment flags of the configuration in service, found on the first `track` after a load. */
  #experimentFlags: readonly string[] | undefined;

  constructor(options: FlagdProviderSettings = {}, logger?: Logger) {
    this.config = resolveConfig(options);
    this.#logger = logger;
    this.#evaluator = createEvaluator({
      ...options.evaluator,
      ...(logger === undefined ? {} : { logger }),
    });
    this.#tracking = options.tracking;
    this.#experiments = new Set(options.experiments ?? []);
    const given = options.source;
    this.#rpcMode = given === undefined && this.config.resolverType === 'rpc';
    if (this.#rpcMode && this.config.offlineFlagSourcePath !== null) {
      throw new FlagdConfigError(
        'offlineFlagSourcePath is read in file mode, but resolverType is "rpc", which would ignore ' +
          'it: drop resolverType (or FLAGD_RESOLVER), or set it to "in-process" or "file"',
      );
    }
    this.#makeSource =
      given !== undefined ? async () => given : this.#rpcMode ? noSource : sourceFor(this.config);
  }

  /** The flag-set metadata of the flags in service. */
  get flagSetMetadata(): FlagMetadata {
    return this.#evaluator.metadata;
  }

  async initialize(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`no flag configuration within deadlineMs (${this.config.deadlineMs} ms)`),
          ),
        this.config.deadlineMs,
      );
    });
    try {
      await Promise.race([this.#start(), deadline]);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && this.config.fatalStatusCodes.includes(code)) {
        await this.#source?.stop();
        await this.#rpc?.stop();
        throw new ProviderFatalError(`fatal status ${code}: ${(error as Error).message}`);
      }
      // A source that keeps trying (a sync stream) may still deliver: that brings READY.
      this.#state = 'error';
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#state = 'ready';
  }

  /** Starts the source, or in RPC mode the resolver (grpc-js is loaded only then). */
  async #start(): Promise<void> {
    if (this.#rpcMode) {
      if (this.#rpc === undefined) {
        const { RpcResolver } = await import('../grpc/rpc-resolver.js');
        this.#rpc = new RpcResolver(this.config);
      }
      return this.#rpc.start(this.#rpcListener);
    }
    this.#source ??= await this.#makeSource();
    return this.#source.start(this.#sink);
  }

  /** Evaluates over RPC; before `initialize` there is no resolver, and the result says so. */
  async #remote<T extends JsonValue>(
    kind: ResolveKind,
    key: string,
    value: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    const rpc = this.#rpc;
    if (rpc === undefined)
      return {
        value,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.PROVIDER_NOT_READY,
        errorMessage: 'the flagd RPC resolver is not initialised',
      };
    const result = await rpc.resolve(kind, key, value, context);
    return this.#exposed(key, context, result);
  }

  async onClose(): Promise<void> {
    await this.#source?.stop();
    await this.#rpc?.stop();
    this.#state = 'idle';
  }

  async resolveBooleanEvaluation(
    key: string,
    value: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const merged = this.#context(context);
    if (this.#rpcMode) return this.#remote('Boolean', key, value, merged);
    return this.#exposed(key, merged, this.#evaluator.resolveBoolean(key, value, merged));
  }

  async resolveStringEvaluation(
    key: string,
    value: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    const merged = this.#context(context);
    if (this.#rpcMode) return this.#remote('String', key, value, merged);
    return this.#exposed(key, merged, this.#evaluator.resolveString(key, value, merged));
  }

  async resolveNumberEvaluation(
    key: string,
    value: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    const merged = this.#context(context);
    if (this.#rpcMode) return this.#remote('Float', key, value, merged);
    return this.#exposed(key, merged, this.#evaluator.resolveNumber(key, value, merged));
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    key: string,
    value: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    const merged = this.#context(context);
    if (this.#rpcMode) return this.#remote('Object', key, value, merged);
    return this.#exposed(key, merged, this.#evaluator.resolveObject(key, value, merged));
  }

  /**
   * The OpenFeature Tracking API (`client.track(eventName, context, { value })`): with a `tracking`
   * recorder, the event counts for the variant of each experiment flag, recomputed from the event's
   * context (with the sync-context enrichment, as evaluations see it) by this provider's evaluator,
   * or the variant served in the current request scope. Without one it does nothing. The client
   * calls it only once the provider is ready; it never throws.
   */
  track(eventName: string, context: EvaluationContext, details: TrackingEventDetails): void {
    const tracking = this.#tracking;
    if (tracking === undefined) return;
    const merged = this.#context(context);
    const evaluator = this.#evaluator;
    try {
      tracking.event(eventName, merged, details, {
        flags: this.#experimentKeys(),
        assign(flagKey) {
          const result = evaluator.resolveValue(flagKey, merged);
          return result.reason === 'TARGETING_MATCH' ? result.variant : undefined;
        },
      });
    } catch (error) {
      this.#trackingFailed(error);
    }
  }

  /** Notes an experiment flag's evaluation that targeting assigned a variant, as an exposure. */
  #exposed<R extends { reason?: string; variant?: string; flagMetadata?: FlagMetadata }>(
    key: string,
    context: EvaluationContext,
    result: R,
  ): R {
    const tracking = this.#tracking;
    if (
      tracking === undefined ||
      result.reason !== 'TARGETING_MATCH' ||
      result.variant === undefined
    )
      return result;
    if (this.#isExperiment(key, result.flagMetadata ?? {})) {
      try {
        tracking.exposure(key, result.variant, context);
      } catch (error) {
        this.#trackingFailed(error);
      }
    }
    return result;
  }

  /** Whether a flag is an experiment: named in the `experiments` option, or by its metadata. */
  #isExperiment(key: string, metadata: FlagMetadata): boolean {
    return this.#experiments.has(key) || metadata[EXPERIMENT_METADATA] === true;
  }

  #trackingFailed(error: unknown): void {
    this.#logger?.warn(`flagd provider: tracking failed: ${(error as Error).message}`);
  }

  /** The flags in service that are experiments (by option or by metadata), cached per configuration. */
  #experimentKeys(): readonly string[] {
    this.#experimentFlags ??= this.#evaluator
      .flagKeys()
      .filter((key) => this.#isExperiment(key, this.#evaluator.resolveValue(key, {}).flagMetadata));
    return this.#experimentFlags;
  }

  /** The invocation context with the sync-context enrichment over it, as flagd's providers merge it. */
  #context(context: EvaluationContext): EvaluationContext {
    return this.#enrichment === undefined ? context : { ...context, ...this.#enrichment };
  }

  /**
   * Puts a configuration and its sync context in service, or neither. Throws the evaluator's
   * `InvalidConfigurationError` as it is, and anything unexpected (a configuration the evaluator
   * cannot take apart, a context enricher that throws) as an `Error` that says so; either way the
   * last good flags stay, and the source reports it (an ERROR event).
   */
  #load(payload: ConfigurationInput, syncContext: EvaluationContext | undefined): FlagChanges {
    try {
      const enrichment =
        syncContext === undefined ? this.#enrichment : this.config.contextEnricher(syncContext);
      const changes = this.#evaluator.setConfiguration(payload);
      this.#enrichment = enrichment;
      this.#experimentFlags = undefined;
      return changes;
    } catch (error) {
      if (isInvalidConfigurationError(error)) throw error;
      throw new Error(
        `flag configuration not loaded (${error instanceof Error ? error.message : String(error)}); serving the last good flags`,
        { cause: error },
      );
    }
  }

  /** The RPC resolver's event stream, as provider events (errors and STALE as a source's). */
  readonly #rpcListener: RpcListener = {
    ready: () => {
      if (this.#state === 'idle' || this.#state === 'ready') return;
      this.#state = 'ready';
      this.events.emit(ProviderEvents.Ready);
    },
    changed: (flagsChanged) => {
      if (this.#state === 'idle') return;
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [...flagsChanged] });
    },
    error: (error) => this.#sink.error(error),
    stale: () => this.#sink.stale(),
  };

  readonly #sink: FlagSourceSink = {
    configuration: (payload, syncContext) => {
      const changes = this.#load(payload, syncContext);
      if (this.#state === 'idle') return; // the initial load: READY comes from initialize()
      if (this.#state !== 'ready') {
        this.#state = 'ready';
        this.events.emit(ProviderEvents.Ready);
      }
      const flagsChanged = changedKeys(changes);
      if (flagsChanged.length > 0)
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
    },
    error: (error) => {
      this.#logger?.warn(`flagd provider: ${error.message}`);
      if (this.#state === 'idle') return; // initialize() reports it
      this.#state = 'error';
      this.events.emit(ProviderEvents.Error, { message: error.message });
    },
    stale: () => {
      if (this.#state !== 'ready') return;
      this.#state = 'stale';
      this.events.emit(ProviderEvents.Stale, {
        message: 'flag source disconnected; serving the last flags',
      });
    },
  };
}

function changedKeys({ added, removed, changed }: FlagChanges): string[] {
  return [...added, ...removed, ...changed];
}

/** How to make the source the resolver asks for; a mode rampflag cannot serve fails here, by name. */
function sourceFor(config: FlagdConfig): () => Promise<FlagSource> {
  if (config.resolverType === 'file') {
    const source = new FileFlagSource(config.offlineFlagSourcePath as string, {
      pollIntervalMs: config.offlinePollIntervalMs,
    });
    return async () => source;
  }
  if (config.resolverType === 'in-process') {
    // Loaded only here, so the root entry needs no @grpc/grpc-js unless this mode is used.
    return async () => {
      const { GrpcSyncSource } = await import('../grpc/sync-source.js');
      return new GrpcSyncSource(config);
    };
  }
  throw new FlagdConfigError(`resolverType "${config.resolverType}" has no flag source`);
}

/** RPC mode has no flag source: flagd evaluates. */
async function noSource(): Promise<never> {
  throw new FlagdConfigError('resolverType "rpc" evaluates on flagd and has no flag source');
}
