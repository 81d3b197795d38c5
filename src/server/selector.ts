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
  const kept = Object.entries(flags).filter(([, flag]) => {
    const id = (flag as Doc).metadata?.['flagSetId'] ?? setId;
    return selector.id === '' ? id === undefined : id === selector.id;
  });
  return JSON.stringify({ ...doc, flags: Object.fromEntries(kept) });
}
