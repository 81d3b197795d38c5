import type { EvaluationContext } from '@openfeature/core';
import { createEvaluator, type ConfigurationInput, type Evaluator } from '../evaluator/index.js';
import { encodeSyncResponse } from '../grpc/wire.js';
import { DEFAULT_LIMITS, readInput } from '../evaluator/load.js';
import {
  diffSourceDocs,
  mergeSources,
  namingSource,
  readSourceDoc,
  type SourceDoc,
} from './flag-sets.js';
import { flagSetIds, selectFlags, selectorKey, type Selector } from './selector.js';

/** What one selection serves at one version, computed once however many clients want it. */
interface Served {
  readonly json: string;
  syncBytes?: Uint8Array;
  sse?: string;
  evaluator?: Evaluator;
}

/** How many selections' derived forms are kept at once, by default. */
export const DEFAULT_MAX_SELECTIONS = 64;

/** The key every selector naming no existing source or flag set shares: they all select nothing. */
const NO_SOURCE = 'source:none';
const NO_FLAG_SET = 'flagSetId:none';

/**
 * The flags a server serves: each source's last good document, merged, with everything derived
 * from a selection (its JSON, its encoded sync message, its SSE event, its evaluator) computed once
 * per version and shared by every client asking for that selection.
 * @internal
 */
export class ServedFlags {
  readonly #names: readonly string[];
  readonly #docs = new Map<string, SourceDoc>();
  readonly #syncContext: EvaluationContext | undefined;
  /** Every flag, kept current incrementally (only changed flags recompile). */
  readonly evaluator = createEvaluator();
  readonly #maxSelections: number;
  #version = 0;
  /** Each selection's derived forms at this version, least recently used first. */
  #served = new Map<string, Served>();
  /** The same from the previous version, so unchanged JSON keeps its identity across versions. */
  #previous = new Map<string, Served>();
  /** The flag set ids the merged flags use at this version ('' for flags with none). */
  #setIds: ReadonlySet<string> | undefined;

  constructor(
    names: readonly string[],
    syncContext: EvaluationContext | undefined,
    maxSelections = DEFAULT_MAX_SELECTIONS,
  ) {
    if (new Set(names).size !== names.length)
      throw new RangeError(`two sources share a name: ${names.join(', ')}`);
    this.#names = names;
    this.#syncContext = syncContext;
    this.#maxSelections = maxSelections;
  }

  /** Bumped by every change; SSE event ids and the configuration-version metric come from it. */
  get version(): number {
    return this.#version;
  }

  /** How many selections' derived forms are kept now. */
  get cachedSelections(): number {
    return this.#served.size;
  }

  /** Whether every source has delivered a good configuration. */
  get ready(): boolean {
    return this.#docs.size === this.#names.length;
  }

  /**
   * Takes a source's new configuration. Throws `InvalidConfigurationError` (naming the source) when
   * it is bad, and nothing changes. Returns whether anything served changed.
   */
  apply(name: string, payload: ConfigurationInput): boolean {
    return this.#take(name, payload) !== undefined;
  }

  /**
   * Like {@link apply}, returning the source's flag keys added, removed and changed, or undefined
   * when the configuration is identical to the one served.
   */
  replace(
    name: string,
    payload: ConfigurationInput,
  ): Record<'added' | 'removed' | 'changed', string[]> | undefined {
    const taken = this.#take(name, payload);
    return taken && diffSourceDocs(taken.previous, taken.doc);
  }

  #take(name: string, payload: ConfigurationInput) {
    const doc = readSourceDoc(name, payload);
    const previous = this.#docs.get(name);
    if (previous?.json === doc.json) return undefined;
    const docs = this.#ordered(new Map(this.#docs).set(name, doc));
    namingSource(name, () => {
      // Several sources merge their flags: check this one's structure whole first (the evaluator
      // checks everything else). One source is served as it came, and the evaluator checks it all.
      if (docs.length > 1) readInput(doc.json, DEFAULT_LIMITS);
      this.evaluator.setConfiguration(mergeSources(docs)); // throws: nothing changed
    });
    this.#docs.set(name, doc);
    this.#version++;
    this.#previous = this.#served;
    this.#served = new Map();
    this.#setIds = undefined;
    return { previous, doc };
  }

  /** The source whose definition of flag `key` is served (the last one defining it), if any. */
  sourceOfFlag(key: string): string | undefined {
    return [...this.#names].reverse().find((name) => this.#docs.get(name)?.flags.has(key));
  }

  /** A source's configuration as served (JSON text), if it has delivered one. */
  sourceJson(name: string): string | undefined {
    return this.#docs.get(name)?.json;
  }

  /** The JSON a selection serves now. */
  json(selector: Selector): string {
    return this.#entry(selector).json;
  }

  /** The `SyncFlagsResponse` a selection gets now, encoded once. */
  syncBytes(selector: Selector): Uint8Array {
    const entry = this.#entry(selector);
    entry.syncBytes ??= encodeSyncResponse({
      flagConfiguration: entry.json,
      ...(this.#syncContext === undefined ? {} : { syncContext: this.#syncContext as never }),
    });
    return entry.syncBytes;
  }

  /** The SSE `configuration` event a selection gets now. */
  sseEvent(selector: Selector): string {
    const entry = this.#entry(selector);
    const data = {
      flagConfiguration: entry.json,
      ...(this.#syncContext === undefined ? {} : { syncContext: this.#syncContext }),
    };
    entry.sse ??= `id: ${this.#version}\nevent: configuration\ndata: ${JSON.stringify(data)}\n\n`;
    return entry.sse;
  }

  /** An evaluator over the flags a selection keeps (the evaluation API honours Flagd-Selector). */
  evaluatorFor(selector: Selector): Evaluator {
    if (selector.kind === 'all') return this.evaluator;
    const entry = this.#entry(selector);
    if (entry.evaluator === undefined) {
      entry.evaluator = createEvaluator();
      entry.evaluator.setConfiguration(entry.json);
    }
    return entry.evaluator;
  }

  /**
   * The key of what a selector selects at this version. Every selector naming no source or flag set
   * that exists shares one key, so a flood of made-up selectors costs one cache entry, not one each.
   */
  #selectionKey(selector: Selector): string {
    switch (selector.kind) {
      case 'all':
        return selectorKey(selector);
      case 'source':
        return this.#names.includes(selector.name) ? selectorKey(selector) : NO_SOURCE;
      case 'flagSetId':
        this.#setIds ??= flagSetIds(this.#ordered(this.#docs));
        return this.#setIds.has(selector.id) ? selectorKey(selector) : NO_FLAG_SET;
    }
  }

  /**
   * A selection's derived forms, computed at most once per version while it stays among the
   * {@link DEFAULT_MAX_SELECTIONS} most recently used; JSON equal to the previous version's keeps
   * that string, so subscribers compare by identity.
   */
  #entry(selector: Selector): Served {
    const key = this.#selectionKey(selector);
    let entry = this.#served.get(key);
    if (entry !== undefined) {
      this.#served.delete(key); // most recently used goes last
    } else {
      const json = selectFlags(this.#ordered(this.#docs), this.#selecting(selector, key));
      const before = this.#previous.get(key);
      entry = { json: before?.json === json ? before.json : json };
      if (this.#served.size >= this.#maxSelections) {
        const oldest = this.#served.keys().next().value as string;
        this.#served.delete(oldest);
      }
    }
    this.#served.set(key, entry);
    return entry;
  }

  /** The selector to compute a selection from: one canonical selector for each empty key. */
  #selecting(selector: Selector, key: string): Selector {
    if (key === NO_SOURCE) return { kind: 'source', name: '' };
    if (key === NO_FLAG_SET) return { kind: 'flagSetId', id: '\u0000none' };
    return selector;
  }

  /** The loaded documents in the order the sources were given: a later source wins a key. */
  #ordered(docs: ReadonlyMap<string, SourceDoc>): SourceDoc[] {
    return this.#names.flatMap((name) => {
      const doc = docs.get(name);
      return doc === undefined ? [] : [doc];
    });
  }
}
