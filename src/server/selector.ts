import { mergeSources, type SourceDoc } from './flag-sets.js';

/**
 * flagd's selector (flagd-spec §d.1): `flagSetId=<id>` keeps the flags of one flag set (a flag's own
 * `flagSetId` metadata wins over the set's; `flagSetId=` keeps flags with none); `source=<name>` or
 * a bare value keeps one source's flags. Any other key is an error.
 * @internal
 */
export type Selector =
  | { readonly kind: 'all' }
  | { readonly kind: 'flagSetId'; readonly id: string }
  | { readonly kind: 'source'; readonly name: string };

/** Parses a selector; throws a RangeError naming what is wrong. */
export function parseSelector(text: string | undefined): Selector {
  if (text === undefined || text.trim() === '') return { kind: 'all' };
  const at = text.indexOf('=');
  if (at < 0) return { kind: 'source', name: text.trim() }; // flagd's legacy form
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  if (key === 'flagSetId') return { kind: 'flagSetId', id: value };
  if (key === 'source') return { kind: 'source', name: value };
  throw new RangeError(`selector key "${key}" is not flagSetId or source`);
}

/** One string per distinct selection, to cache what a selection serves. */
export function selectorKey(selector: Selector): string {
  switch (selector.kind) {
    case 'all':
      return '';
    case 'flagSetId':
      return `flagSetId=${selector.id}`;
    case 'source':
      return `source=${selector.name}`;
  }
}

type Doc = {
  flags?: Record<string, { metadata?: Record<string, unknown> }>;
  metadata?: Record<string, unknown>;
};

/** A flag's flag set id: its own `flagSetId` metadata, else its set's; '' for none. */
function setIdOf(flag: { metadata?: Record<string, unknown> }, setId: unknown): unknown {
  return flag.metadata?.['flagSetId'] ?? setId ?? '';
}

/** Every flag set id the merged flags use ('' when some flag has none). */
export function flagSetIds(docs: readonly SourceDoc[]): ReadonlySet<string> {
  const doc = JSON.parse(mergeSources(docs)) as Doc;
  const flags = Array.isArray(doc.flags) ? doc.flags : Object.values(doc.flags ?? {});
  const setId = doc.metadata?.['flagSetId'];
  const ids = new Set<string>();
  for (const flag of flags) {
    const id = setIdOf(flag as Doc, setId);
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

/** The configuration JSON of the flags `selector` keeps, from the sources' last good documents. */
export function selectFlags(docs: readonly SourceDoc[], selector: Selector): string {
  if (selector.kind === 'source')
    return mergeSources(docs.filter((doc) => doc.name === selector.name));
  const json = mergeSources(docs);
  if (selector.kind === 'all') return json;
  const doc = JSON.parse(json) as Doc;
  const flags = Array.isArray(doc.flags)
    ? Object.fromEntries(doc.flags.map(({ key, ...flag }: { key: string }) => [key, flag]))
    : (doc.flags ?? {});
  const setId = doc.metadata?.['flagSetId'];
  const kept = Object.entries(flags).filter(
    ([, flag]) => setIdOf(flag as Doc, setId) === selector.id,
  );
  return JSON.stringify({ ...doc, flags: Object.fromEntries(kept) });
}
