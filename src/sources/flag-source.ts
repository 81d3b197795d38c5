import type { EvaluationContext } from '@openfeature/core';
import type { ConfigurationInput } from '../evaluator/index.js';

/** Where a source delivers what it learns. The provider implements it. */
export interface FlagSourceSink {
  /**
   * A complete flag configuration, with the sync context a flagd sync stream sends beside it.
   * Throws when the configuration is not taken (`InvalidConfigurationError` when it is rejected, an
   * `Error` naming the cause when it cannot be loaded); the last good one stays in service. A source
   * never lets that throw escape an event handler: it reports it through {@link error}.
   */
  configuration(payload: ConfigurationInput, syncContext?: EvaluationContext): void;
  /** The source cannot deliver (file unreadable or invalid, stream failed): flags may be stale. */
  error(error: Error): void;
  /** The source lost its connection; it is trying to get it back. */
  stale(): void;
}

/**
 * Something that keeps a provider's flags current: a file, a sync stream, an in-memory set.
 * A source knows nothing of OpenFeature events; the provider turns what it reports into them.
 */
export interface FlagSource {
  /**
   * Starts delivering to `sink`. Resolves once the first configuration was delivered; rejects
   * when none can be (the provider's initialisation then fails).
   */
  start(sink: FlagSourceSink): Promise<void>;
  /** Stops every timer, watcher and connection. */
  stop(): Promise<void>;
}

/**
 * A source that can also be written: the server's admin API and the rollout controller replace its
 * configuration through it. The new configuration reaches the sink as any change does.
 */
export interface WritableFlagSource extends FlagSource {
  /** The configuration as stored now: the file's text as on disk, the in-memory source's JSON. */
  read(): Promise<string>;
  /**
   * Replaces the stored configuration with `configuration` (JSON text of the whole document), keeping the
   * stored format. With `expected`, writes only if what is stored is still exactly `expected` at the
   * moment of writing; otherwise rejects with a `WriteConflictError` (its name 'WriteConflictError';
   * see {@link isWriteConflictError}). Writes to one source are serialised.
   */
  write(configuration: string, options?: WriteOptions): Promise<void>;
}

/** Options of {@link WritableFlagSource.write}. */
export interface WriteOptions {
  /** Write only if what is stored is still exactly this text (compare-and-swap). */
  readonly expected?: string;
}

/**
 * A compare-and-swap write found the stored configuration changed since it was read: nothing was
 * written. Read again, re-apply the change and retry.
 */
export class WriteConflictError extends Error {
  override readonly name = 'WriteConflictError';

  constructor(
    message = 'the stored flag configuration changed since it was read',
    options?: ErrorOptions,
  ) {
    super(message, options);
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Whether `error` is a {@link WriteConflictError}, across ESM/CJS copies of the class. */
export function isWriteConflictError(error: unknown): error is WriteConflictError {
  return error instanceof Error && error.name === 'WriteConflictError';
}

/** Whether `source` can be written. */
export function isWritableSource(source: FlagSource): source is WritableFlagSource {
  return typeof (source as Partial<WritableFlagSource>).write === 'function';
}
