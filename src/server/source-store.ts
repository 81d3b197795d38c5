import type { Logger } from '@openfeature/core';
import { isWritableSource, type WritableFlagSource } from '../sources/flag-source.js';
import type { StoredConfiguration } from './admin-api.js';
import { refuseNewWarnings } from './admin-checks.js';
import { readSourceDoc } from './flag-sets.js';
import type { FlagServerSource } from './flag-server.js';
import type { ServedFlags } from './served-flags.js';

type Changes = Record<'added' | 'removed' | 'changed', string[]>;

/**
 * The server's sources as the admin API reads and writes them: what each stores now, one update of
 * a source at a time, and compare-and-swap writes that are served before they are stored and
 * rolled back if storing fails.
 * @internal
 */
export class SourceStore {
  readonly #sources: readonly FlagServerSource[];
  readonly #flags: ServedFlags;
  readonly #changed: (name: string) => void;
  readonly #logger: Logger;
  /** The update of each source in progress: updates of one source run one at a time. */
  readonly #updating = new Map<string, Promise<unknown>>();

  constructor(
    sources: readonly FlagServerSource[],
    flags: ServedFlags,
    changed: (name: string) => void,
    logger: Logger,
  ) {
    this.#sources = sources;
    this.#flags = flags;
    this.#changed = changed;
    this.#logger = logger;
  }

  /** The source named `name`, if it can be written. */
  writable(name: string): WritableFlagSource | undefined {
    const source = this.#sources.find((s) => s.name === name)?.source;
    return source !== undefined && isWritableSource(source) ? source : undefined;
  }

  /** A source's configuration as stored: read from the source when it can be written. */
  async stored(name: string): Promise<StoredConfiguration> {
    const source = this.writable(name);
    if (source === undefined)
      return { json: this.#flags.sourceJson(name) ?? '{"flags":{}}', raw: undefined };
    const raw = await source.read();
    let json = raw;
    try {
      json = readSourceDoc(name, raw).json; // YAML as JSON
    } catch {
      // not readable as a configuration: shown (and tagged) as it is, for a PUT to mend it
    }
    return { json, raw };
  }

  /** Runs `update` with no other update of the same source in between. */
  exclusive<T>(name: string, update: () => Promise<T>): Promise<T> {
    const run = (this.#updating.get(name) ?? Promise.resolve()).then(update, update);
    this.#updating.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  }

  /**
   * The admin API's write. Validated whole and served first (a bad configuration, or one adding a
   * rule that can never evaluate, throws and nothing changes), then stored in the source if it
   * still stores `expected`; if storing fails, the previous configuration is served again. What the
   * source stored (its own format) is then served, so its change event is no second change.
   */
  async replace(
    name: string,
    configuration: string,
    expected: string | undefined,
  ): Promise<Changes> {
    const previous = this.#flags.sourceJson(name);
    refuseNewWarnings(name, previous, configuration);
    const changes = this.#flags.replace(name, configuration);
    const served = this.#flags.sourceJson(name);
    const source = this.writable(name);
    try {
      await source?.write(configuration, expected === undefined ? {} : { expected });
    } catch (error) {
      // serve the previous flags again, unless the source delivered newer ones meanwhile, and tell
      // every stream that got this write
      if (
        previous !== undefined &&
        changes !== undefined &&
        this.#flags.sourceJson(name) === served
      ) {
        this.#flags.replace(name, previous);
        this.#changed(name);
      }
      throw error;
    }
    let reformatted = false;
    try {
      if (source !== undefined) reformatted = this.#flags.apply(name, await source.read());
    } catch (error) {
      this.#logger.warn(`flag server: source ${name} after a write: ${(error as Error).message}`);
    }
    if (changes !== undefined || reformatted) this.#changed(name);
    return changes ?? { added: [], removed: [], changed: [] };
  }
}
