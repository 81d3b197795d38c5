import { isObject } from '../evaluator/json-path.js';

type Json = Record<string, unknown>;

/** Flag `key` of a configuration (the map or the array form), or undefined when it has none. */
export function flagIn(doc: Json, key: string): Json | undefined {
  const flags = doc['flags'];
  const flag = isObject(flags)
    ? Object.hasOwn(flags, key)
      ? flags[key]
      : undefined
    : Array.isArray(flags)
      ? (flags as unknown[]).find((f) => isObject(f) && f['key'] === key)
      : undefined;
  return isObject(flag) ? flag : undefined;
}

/** `doc` with flag `key` replaced, other flags and keys untouched, in the form it came in. */
export function replaceFlag(doc: Json, key: string, flag: Json): Json {
  const flags = doc['flags'];
  if (Array.isArray(flags))
    return {
      ...doc,
      flags: (flags as Json[]).map((f) => (f['key'] === key ? { key, ...flag } : f)),
    };
  return {
    ...doc,
    flags: Object.fromEntries(
      Object.entries(flags as Json).map(([k, f]) => [k, k === key ? flag : f]),
    ),
  };
}
