import type { FlagMetadata, JsonValue } from '@openfeature/core';
import { InvalidConfigurationError, validateConfiguration } from '../evaluator/index.js';
import {
  WriteConflictError,
  type FlagSourceSink,
  type WritableFlagSource,
  type WriteOptions,
} from './flag-source.js';
import {
  DEFAULT_JSON_STYLE,
  inFormatOf,
  jsonStyleOf,
  renderJson,
  type JsonStyle,
} from './keep-format.js';

/** A flag as a test writes it; `state` defaults to `ENABLED`. */
export interface InMemoryFlag {
  readonly state?: 'ENABLED' | 'DISABLED';
  readonly variants: Readonly<Record<string, JsonValue>>;
  readonly defaultVariant?: string | null;
  readonly targeting?: Readonly<Record<string, unknown>>;
  readonly metadata?: FlagMetadata;
}

/** Options of {@link InMemoryFlagSource}. */
export interface InMemoryFlagSourceOptions {
  /** Flag-set metadata. */
  readonly metadata?: FlagMetadata;
  /** Shared rules for `{"$ref": name}`. */
  readonly evaluators?: Readonly<Record<string, unknown>>;
}

/**
 * Flags held in memory, made for tests: set a flag in one line, flip it mid-test. Every change is
 * validated at once (a bad one throws `InvalidConfigurationError` and changes nothing) and reaches
 * the application as a CONFIGURATION_CHANGED event.
 *
 * @example
 * const flags = new InMemoryFlagSource({ 'new-checkout': { variants: { on: true, off: false }, defaultVariant: 'off' } });
 * await OpenFeature.setProviderAndWait(new FlagdProvider({ source: flags }));
 * flags.setValue('new-checkout', true); // now every evaluation returns true
 */
export class InMemoryFlagSource implements WritableFlagSource {
  #flags: Readonly<Record<string, InMemoryFlag>>;
  #options: InMemoryFlagSourceOptions;
  #sink: FlagSourceSink | undefined;
  /** The text last written, until a change through `set` and the like replaces it. */
  #text: string | undefined;
  #style: JsonStyle = DEFAULT_JSON_STYLE;

  constructor(
    flags: Readonly<Record<string, InMemoryFlag>> = {},
    options: InMemoryFlagSourceOptions = {},
  ) {
    this.#options = options;
    this.#flags = {};
    this.#apply({ ...flags });
  }

  async start(sink: FlagSourceSink): Promise<void> {
    this.#sink = sink;
    sink.configuration(this.#document(this.#flags));
  }

  async stop(): Promise<void> {
    this.#sink = undefined;
  }

  /** Adds or replaces a flag. */
  set(key: string, flag: InMemoryFlag): void {
    this.#apply({ ...this.#flags, [key]: flag });
  }

  /** Makes `key` a static flag that returns `value` (one variant, named `value`). */
  setValue(key: string, value: JsonValue): void {
    this.set(key, { variants: { value }, defaultVariant: 'value' });
  }

  /** Changes some fields of an existing flag. */
  update(key: string, change: Partial<InMemoryFlag>): void {
    const current = Object.hasOwn(this.#flags, key) ? this.#flags[key] : undefined;
    if (current === undefined) throw new RangeError(`no flag "${key}" to update`);
    this.set(key, { ...current, ...change });
  }

  /** Removes a flag (evaluations then give FLAG_NOT_FOUND). */
  remove(key: string): void {
    const { [key]: _removed, ...rest } = this.#flags;
    this.#apply(rest);
  }

  /** Replaces every flag at once. */
  replace(flags: Readonly<Record<string, InMemoryFlag>>): void {
    this.#apply({ ...flags });
  }

  /** The configuration as it stands, as JSON text: what was last written, or the flags as set. */
  async read(): Promise<string> {
    return this.#current();
  }

  /**
   * Replaces everything (flags, flag-set metadata, shared evaluators) with a configuration document
   * in flagd's format, as the server's admin API does, keeping the layout of the JSON last written
   * (the first text written to flags set in code keeps its own).
   * Throws and changes nothing when it is bad; with `expected`, rejects with `WriteConflictError`
   * unless {@link read} still gives exactly it. Each write happens whole before the next starts.
   */
  async write(configuration: string, options: WriteOptions = {}): Promise<void> {
    // Synchronous from here on: a concurrent write cannot come between the check and the change.
    const current = this.#current();
    if (options.expected !== undefined && options.expected !== current)
      throw new WriteConflictError();
    // Flags set in code have no layout of their own: the first text written sets it.
    const text = inFormatOf(this.#text ?? configuration, configuration);
    const doc = JSON.parse(text) as {
      flags?: Record<string, InMemoryFlag> | (InMemoryFlag & { key: string })[];
      metadata?: FlagMetadata;
      $evaluators?: Record<string, unknown>;
    };
    const previous = this.#options;
    this.#options = {
      ...(doc.metadata === undefined ? {} : { metadata: doc.metadata }),
      ...(doc.$evaluators === undefined ? {} : { evaluators: doc.$evaluators }),
    };
    try {
      const flags = Array.isArray(doc.flags)
        ? Object.fromEntries(doc.flags.map(({ key, ...flag }) => [key, flag]))
        : { ...doc.flags };
      this.#apply(flags);
    } catch (error) {
      this.#options = previous;
      throw error;
    }
    this.#text = text;
    this.#style = jsonStyleOf(text);
  }

  #current(): string {
    return this.#text ?? renderJson(this.#document(this.#flags), this.#style);
  }

  /** The flags as they stand. */
  get flags(): Readonly<Record<string, InMemoryFlag>> {
    return this.#flags;
  }

  #apply(next: Record<string, InMemoryFlag>): void {
    const document = this.#document(next);
    if (this.#sink !== undefined)
      this.#sink.configuration(document); // throws when rejected
    else {
      const errors = validateConfiguration(document).filter((issue) => issue.severity === 'error');
      if (errors.length > 0) throw new InvalidConfigurationError(errors);
    }
    this.#flags = Object.freeze(next);
    this.#text = undefined;
  }

  #document(flags: Readonly<Record<string, InMemoryFlag>>): object {
    const withState = Object.fromEntries(
      Object.entries(flags).map(([key, flag]) => [key, { state: 'ENABLED', ...flag }]),
    );
    const { metadata, evaluators } = this.#options;
    return {
      flags: withState,
      ...(metadata === undefined ? {} : { metadata }),
      ...(evaluators === undefined ? {} : { $evaluators: evaluators }),
    };
  }
}
