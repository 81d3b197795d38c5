/**
 * flagd's selector (flagd-spec §d.1): `flagSetId=<id>` keeps the flags of one flag set (a flag's own
 * `flagSetId` metadata wins over the set's; `flagSetId=` keeps flags with none); `source=<uri>` or
 * a bare value names a source. Any other key is an error.
 * @internal
 */
export type Selector =
  { readonly kind: 'all' } | { readonly kind: 'flagSetId'; readonly id: string };

/** Parses a selector; throws a RangeError naming what is wrong. */
export function parseSelector(text: string | undefined): Selector {
  if (text === undefined || text.trim() === '') return { kind: 'all' };
  const at = text.indexOf('=');
  if (at < 0) return { kind: 'all' }; // a bare value is a source; a FlagServer has one source
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  if (key === 'flagSetId') return { kind: 'flagSetId', id: value };
  if (key === 'source') return { kind: 'all' };
  throw new RangeError(`selector key "${key}" is not flagSetId or source`);
}

type Doc = {
  flags?: Record<string, { metadata?: Record<string, unknown> }>;
  metadata?: Record<string, unknown>;
};

/** The configuration JSON with only the flags `selector` keeps. */
export function selectFlags(json: string, selector: Selector): string {
  if (selector.kind === 'all') return json;
  const doc = JSON.parse(json) as Doc;
  const setId = doc.metadata?.['flagSetId'];
  const flags = Object.fromEntries(
    Object.entries(doc.flags ?? {}).filter(([, flag]) => {
      const id = flag.metadata?.['flagSetId'] ?? setId;
      return selector.id === '' ? id === undefined : id === selector.id;
    }),
  );
  return JSON.stringify({ ...doc, flags });
}
