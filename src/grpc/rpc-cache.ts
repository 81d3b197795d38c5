/**
 * The RPC resolver's cache of STATIC results: least recently used first out, bounded by
 * `maxCacheSize`, keyed by flag key as flagd's providers key it (a STATIC result does not depend
 * on the context). A `Map` keeps insertion order; a hit re-inserts its entry at the end.
 * @internal
 */
export class LruCache<V> {
  readonly #entries = new Map<string, V>();

  constructor(private readonly maxSize: number) {}

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    if (this.maxSize <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.maxSize) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
