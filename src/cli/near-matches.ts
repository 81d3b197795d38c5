/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min(
          (previous[j] as number) + 1,
          (current[j - 1] as number) + 1,
          (previous[j - 1] as number) + cost,
        ),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The names nearest to `wanted` (at most `limit`): those a few edits away, or that contain it or
 * that it contains, ignoring case; nearest first.
 */
export function nearMatches(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const w = wanted.toLowerCase();
  const scored: [string, number][] = [];
  for (const name of names) {
    const n = name.toLowerCase();
    if (n.length > 200) continue;
    const d = distance(w, n);
    const within = d <= Math.max(2, Math.floor(Math.max(w.length, n.length) / 3));
    const contains = w.length >= 3 && (n.includes(w) || w.includes(n));
    if (within || contains) scored.push([name, contains && !within ? d + 100 : d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([name]) => name);
}

/** `flag "x" not found`, with the nearest flag keys as suggestions. */
export function notFoundMessage(key: string, keys: readonly string[]): string {
  const near = nearMatches(key, keys);
  if (near.length > 0)
    return `flag "${key}" not found; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`;
  return keys.length === 0
    ? `flag "${key}" not found: the configuration has no flags`
    : `flag "${key}" not found (${keys.length} flag${keys.length === 1 ? '' : 's'}: ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''})`;
}
