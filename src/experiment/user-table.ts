/**
 * How many users a flag's tables may hold between them, and whether an add was ever refused.
 * @internal
 */
export interface UserBudget {
  readonly max: number;
  used: number;
  overflowed: boolean;
}

const EMPTY = 0;
const FIRST_CAPACITY = 16;

/**
 * A set of users by 32-bit hash, each with a running value (a user's total so far), kept in open
 * addressing over typed arrays between a quarter and half full: 8 to 16 bytes a user, 24 to 48 once
 * values are held (a million users in at most 16 MiB, where a `Set<number>` of the same hashes takes
 * several times that). An add past the shared {@link UserBudget} is refused and marks it overflowed.
 * @internal
 */
export class UserTable {
  #keys = new Uint32Array(FIRST_CAPACITY);
  /** Allocated with the first value: tables of users without values stay small. */
  #values: Float64Array | undefined;
  #size = 0;
  readonly #budget: UserBudget;

  constructor(budget: UserBudget) {
    this.#budget = budget;
  }

  /** The users held. */
  get size(): number {
    return this.#size;
  }

  /** Whether the user with this hash is held. */
  has(hash: number): boolean {
    return this.#keys[this.#slot(key(hash))] !== EMPTY;
  }

  /** Adds a user: `added`, `present` (held already), or `full` (the budget is spent; not added). */
  add(hash: number): 'added' | 'present' | 'full' {
    const k = key(hash);
    let slot = this.#slot(k);
    if (this.#keys[slot] !== EMPTY) return 'present';
    if (this.#budget.used >= this.#budget.max) {
      this.#budget.overflowed = true;
      return 'full';
    }
    if ((this.#size + 1) * 2 > this.#keys.length) {
      this.#grow();
      slot = this.#slot(k);
    }
    this.#keys[slot] = k;
    this.#size++;
    this.#budget.used++;
    return 'added';
  }

  /** A held user's value (0 for a user not held, or without values). */
  valueOf(hash: number): number {
    const slot = this.#slot(key(hash));
    return this.#keys[slot] === EMPTY ? 0 : (this.#values?.[slot] ?? 0);
  }

  /** Adds `amount` to a held user's value and returns the value before (0 for a user not held). */
  addValue(hash: number, amount: number): number {
    const slot = this.#slot(key(hash));
    if (this.#keys[slot] === EMPTY) return 0;
    this.#values ??= new Float64Array(this.#keys.length);
    const before = this.#values[slot] as number;
    this.#values[slot] = before + amount;
    return before;
  }

  /** Where `k` is, or the empty slot where it would go (linear probing; never full). */
  #slot(k: number): number {
    const keys = this.#keys;
    const mask = keys.length - 1;
    let i = k & mask;
    for (;;) {
      const at = keys[i] as number;
      if (at === EMPTY || at === k) return i;
      i = (i + 1) & mask;
    }
  }

  #grow(): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Uint32Array(keys.length * 2);
    this.#values = values === undefined ? undefined : new Float64Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k === EMPTY) continue;
      const slot = this.#slot(k);
      this.#keys[slot] = k;
      if (values !== undefined && this.#values !== undefined)
        this.#values[slot] = values[i] as number;
    }
  }
}

/** A hash as a table key: 0 marks an empty slot, so the hash 0 is held as 1 (one more collision). */
function key(hash: number): number {
  return hash >>> 0 || 1;
}
