import type { JsonValue } from '@openfeature/core';
import type { SourceDoc } from './flag-sets.js';

type Json = Record<string, unknown>;

/** The key an audit record uses for a change to the flag set itself: its metadata, its evaluators. */
export const FLAG_SET = '*';

/** One flag's definition before and after a change (`null`: it did not exist). @internal */
export interface FlagChangeRecord {
  /** The flag's key, or {@link FLAG_SET} for the set's metadata and shared evaluators. */
  readonly flag: string;
  readonly before: JsonValue;
  readonly after: JsonValue;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The set's own parts: its metadata and shared evaluators. */
function setParts(doc: SourceDoc | undefined): JsonValue {
  if (doc === undefined) return null;
  return {
    ...(doc.metadata === undefined ? {} : { metadata: doc.metadata }),
    ...(doc.evaluators.size === 0 ? {} : { $evaluators: Object.fromEntries(doc.evaluators) }),
  } as JsonValue;
}

/**
 * What changed from one version of a source to the next, flag by flag, as written (not as served:
 * a rollout's `rollout.*` keys and a hand edit show as they are in the file), and the set's own
 * metadata and shared evaluators as one more entry. Pure. @internal
 */
export function flagChanges(previous: SourceDoc | undefined, next: SourceDoc): FlagChangeRecord[] {
  const before = previous?.flags ?? new Map<string, Json>();
  const keys = [...new Set([...before.keys(), ...next.flags.keys()])];
  const changes: FlagChangeRecord[] = keys.flatMap((flag) => {
    const [a, b] = [before.get(flag), next.flags.get(flag)];
    return same(a, b)
      ? []
      : [{ flag, before: (a ?? null) as JsonValue, after: (b ?? null) as JsonValue }];
  });
  const [a, b] = [setParts(previous), setParts(next)];
  if (!same(a, b)) changes.push({ flag: FLAG_SET, before: a, after: b });
  return changes;
}

/** The parts of a flag a `rollout` token may change: where its traffic goes. */
const TRAFFIC = new Set(['targeting', 'defaultVariant', 'metadata']);

/**
 * What in a change a token with the `rollout` role (and not `admin`) may not do, or undefined when
 * the change only moves traffic: an existing flag's `targeting`, `defaultVariant` and `rollout.*`
 * metadata. Adding, removing or redefining a flag, and the set's own parts, need `admin`. Pure.
 * @internal
 */
export function beyondTraffic(changes: readonly FlagChangeRecord[]): string | undefined {
  for (const { flag, before, after } of changes) {
    if (flag === FLAG_SET) return "the flag set's metadata and shared evaluators";
    if (before === null) return `adding flag "${flag}"`;
    if (after === null) return `removing flag "${flag}"`;
    const [a, b] = [before as Json, after as Json];
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (same(a[key], b[key])) continue;
      if (!TRAFFIC.has(key)) return `flag "${flag}": "${key}"`;
      if (key === 'metadata') {
        const [ma, mb] = [(a[key] ?? {}) as Json, (b[key] ?? {}) as Json];
        const other = [...new Set([...Object.keys(ma), ...Object.keys(mb)])].find(
          (k) => !k.startsWith('rollout.') && !same(ma[k], mb[k]),
        );
        if (other !== undefined) return `flag "${flag}": metadata "${other}"`;
      }
    }
  }
  return undefined;
}
