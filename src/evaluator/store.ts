import type { FlagMetadata } from '@openfeature/core';
import type { CompiledFlag } from './flag.js';
import { sameDefinition } from './configuration.js';

/** One immutable configuration: what every evaluation reads. @internal */
export interface Snapshot {
  readonly flags: ReadonlyMap<string, CompiledFlag>;
  /** Flag-set metadata (returned with FLAG_NOT_FOUND). */
  readonly metadata: FlagMetadata;
  /** The configuration's shared rules (`$evaluators`). */
  readonly evaluators: ReadonlyMap<string, unknown>;
}

/** The keys an update added, removed and changed. */
export interface FlagChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** Flags that differ between two snapshots, judged by their definitions' text. @internal */
export function diffSnapshots(previous: Snapshot, next: Snapshot): FlagChanges {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [key, flag] of next.flags) {
    const old = previous.flags.get(key);
    if (old === undefined) added.push(key);
    else if (!sameDefinition(old.definition, flag.definition)) changed.push(key);
  }
  for (const key of previous.flags.keys()) if (!next.flags.has(key)) removed.push(key);
  return { added, removed, changed };
}

/**
 * Holds the current snapshot. `replace` swaps it in one assignment, so a reader sees either the
 * old configuration or the new one, never a mix.
 * @internal
 */
export class FlagStore {
  #snapshot: Snapshot = { flags: new Map(), metadata: Object.freeze({}), evaluators: new Map() };

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  replace(next: Snapshot): FlagChanges {
    const changes = diffSnapshots(this.#snapshot, next);
    this.#snapshot = next;
    return changes;
  }
}
