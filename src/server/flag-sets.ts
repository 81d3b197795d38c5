import {
  InvalidConfigurationError,
  isInvalidConfigurationError,
  type ConfigurationInput,
} from '../evaluator/index.js';
import { DEFAULT_LIMITS } from '../evaluator/load.js';
import { parseConfigurationText } from '../evaluator/parse-text.js';
import { isObject } from '../evaluator/json-path.js';

type Json = Record<string, unknown>;

/** One source's last good configuration, as the server keeps it. @internal */
export interface SourceDoc {
  /** The source's name: its path or URI as given, which a `source=` selector names. */
  readonly name: string;
  /** The configuration as JSON text, exactly as the source gave it when it was JSON. */
  readonly json: string;
  /** Its flags by key (the array form normalised), `$ref`s to its own evaluators inlined. */
  readonly flags: ReadonlyMap<string, Json>;
  /** Its flag-set metadata. */
  readonly metadata: Json | undefined;
}

/** A source's configuration as JSON text: flagd converts YAML sources to JSON. */
function asJson(input: ConfigurationInput): string {
  if (typeof input !== 'string') return JSON.stringify(input);
  const first = input.trimStart()[0];
  if (first === '{' || first === '[') return input;
  return JSON.stringify(parseConfigurationText(input, DEFAULT_LIMITS));
}

/**
 * `rule` with every `{"$ref": name}` naming one of `evaluators` replaced by that evaluator, as flagd
 * transposes shared evaluators when it loads a source. An unknown name stays a `$ref`, which
 * evaluates to PARSE_ERROR as it does in flagd. Evaluators may use evaluators; a cycle stays a `$ref`.
 */
function inlineRefs(rule: unknown, evaluators: Json, seen: readonly string[] = []): unknown {
  if (Array.isArray(rule)) return rule.map((item) => inlineRefs(item, evaluators, seen));
  if (!isObject(rule)) return rule;
  const keys = Object.keys(rule);
  const name = rule['$ref'];
  if (keys.length === 1 && typeof name === 'string' && Object.hasOwn(evaluators, name)) {
    if (seen.includes(name)) return rule;
    return inlineRefs(evaluators[name], evaluators, [...seen, name]);
  }
  return Object.fromEntries(keys.map((key) => [key, inlineRefs(rule[key], evaluators, seen)]));
}

/**
 * Runs `read`, naming `source` in every issue of an {@link InvalidConfigurationError} it throws.
 * @internal
 */
export function namingSource<T>(source: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!isInvalidConfigurationError(error)) throw error;
    throw new InvalidConfigurationError(
      error.issues.map((issue) => ({ ...issue, message: `${source}: ${issue.message}` })),
    );
  }
}

/** A document's flags by key (the array form normalised), `$ref`s to its own evaluators inlined. */
function flagsOf(doc: Json): Map<string, Json> {
  const evaluators = isObject(doc['$evaluators']) ? doc['$evaluators'] : {};
  const entries: [string, Json][] = Array.isArray(doc['flags'])
    ? (doc['flags'] as Json[]).map(({ key, ...flag }) => [String(key), flag])
    : Object.entries(isObject(doc['flags']) ? (doc['flags'] as Record<string, Json>) : {});
  return new Map(
    entries.map(([key, flag]) => {
      const targeting = flag['targeting'];
      const inlined =
        targeting === undefined ? flag : { ...flag, targeting: inlineRefs(targeting, evaluators) };
      return [key, inlined];
    }),
  );
}

/**
 * One source's configuration as JSON text (YAML converted, within the evaluator's size and alias
 * limits). Nothing is validated here: the evaluator does that when the configuration is served.
 * The flags and metadata are parsed only when asked for (to merge several sources or to diff).
 * @internal
 */
export function readSourceDoc(name: string, input: ConfigurationInput): SourceDoc {
  const json = namingSource(name, () => asJson(input));
  let parsed: { flags: Map<string, Json>; metadata: Json | undefined } | undefined;
  const parsedDoc = () => {
    if (parsed === undefined) {
      const doc = JSON.parse(json) as Json;
      parsed = {
        flags: flagsOf(doc),
        metadata: isObject(doc['metadata']) ? doc['metadata'] : undefined,
      };
    }
    return parsed;
  };
  return {
    name,
    json,
    get flags() {
      return parsedDoc().flags;
    },
    get metadata() {
      return parsedDoc().metadata;
    },
  };
}

/**
 * The configuration a set of sources serves, as JSON text. One source is served as it came. Several
 * are merged as flagd merges its sources: a flag key defined twice takes the later source's flag,
 * each flag carries its source's flag-set metadata (under its own), and shared evaluators are
 * already inlined, so no source's `$evaluators` can shadow another's.
 * @internal
 */
export function mergeSources(docs: readonly SourceDoc[]): string {
  if (docs.length === 0) return '{"flags":{}}';
  if (docs.length === 1) return (docs[0] as SourceDoc).json;
  const merged = new Map<string, Json>();
  for (const { flags, metadata } of docs) {
    for (const [key, flag] of flags) {
      const own = isObject(flag['metadata']) ? flag['metadata'] : undefined;
      const withSet =
        metadata === undefined ? flag : { ...flag, metadata: { ...metadata, ...own } };
      merged.delete(key); // the later source's flag takes the later place, too
      merged.set(key, withSet);
    }
  }
  // Object.fromEntries defines own properties: a "__proto__" key stays a key.
  return JSON.stringify({ flags: Object.fromEntries(merged) });
}

/** The flag keys added, removed and changed from one version of a source to the next. @internal */
export function diffSourceDocs(
  previous: SourceDoc | undefined,
  next: SourceDoc,
): Record<'added' | 'removed' | 'changed', string[]> {
  const before = previous?.flags ?? new Map<string, Json>();
  const same = (a: Json | undefined, b: Json | undefined) =>
    JSON.stringify(a) === JSON.stringify(b);
  const metadataChanged = !same(previous?.metadata, next.metadata);
  return {
    added: [...next.flags.keys()].filter((key) => !before.has(key)),
    removed: [...before.keys()].filter((key) => !next.flags.has(key)),
    changed: [...next.flags.keys()].filter(
      (key) => before.has(key) && (metadataChanged || !same(before.get(key), next.flags.get(key))),
    ),
  };
}
