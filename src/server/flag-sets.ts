import {
  InvalidConfigurationError,
  isInvalidConfigurationError,
  type ConfigurationInput,
} from '../evaluator/index.js';
import { DEFAULT_LIMITS } from '../evaluator/load.js';
import { parseConfigurationText } from '../evaluator/parse-text.js';
import { childPath, isObject } from '../evaluator/json-path.js';
import { expansionMeter, overLimits, refName, type Expansion } from '../evaluator/ref-expansion.js';

type Json = Record<string, unknown>;

/** One source's last good configuration, as the server keeps it. @internal */
export interface SourceDoc {
  /** The source's name: its path or URI as given, which a `source=` selector names. */
  readonly name: string;
  /** The configuration as JSON text, exactly as the source gave it when it was JSON. */
  readonly json: string;
  /** Its flags by key (the array form normalised), as written. */
  readonly flags: ReadonlyMap<string, Json>;
  /** Its shared evaluators by name. */
  readonly evaluators: ReadonlyMap<string, unknown>;
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
 * Inlines shared evaluators into flags as flagd transposes them when it loads a source: every
 * `{"$ref": name}` naming one of the source's evaluators becomes that evaluator. An unknown name, or
 * an evaluator on a cycle, stays a `$ref` (it evaluates to PARSE_ERROR, as in flagd). Each evaluator
 * is inlined once and the result shared by every reference, and nothing is inlined before the
 * whole expansion is measured: the flags of one merge may hold at most `maxRuleNodes` nodes once
 * inlined, each nested at most `maxDepth` deep, so evaluators that each use the previous one twice
 * are refused, naming the flag and the evaluators it uses, instead of exhausting the memory.
 */
class Inliner {
  readonly #evaluators: ReadonlyMap<string, unknown>;
  readonly #measure: (rule: unknown) => Expansion;
  readonly #done = new Map<string, unknown>();

  constructor(evaluators: ReadonlyMap<string, unknown>) {
    this.#evaluators = evaluators;
    this.#measure = expansionMeter(evaluators);
  }

  /** The size `targeting` will have once inlined, measured without inlining anything. */
  measure(targeting: unknown): Expansion {
    return this.#measure(targeting);
  }

  inline(rule: unknown): unknown {
    const name = refName(rule, this.#evaluators);
    if (name !== undefined) {
      if (this.#measure(rule).cyclic) return rule;
      let inlined = this.#done.get(name);
      if (inlined === undefined) {
        inlined = this.inline(this.#evaluators.get(name));
        this.#done.set(name, inlined);
      }
      return inlined;
    }
    if (Array.isArray(rule)) return rule.map((item) => this.inline(item));
    if (!isObject(rule)) return rule;
    // Object.fromEntries defines own properties: a "__proto__" key stays a key.
    return Object.fromEntries(Object.keys(rule).map((key) => [key, this.inline(rule[key])]));
  }
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

/** A document's flags by key (the array form normalised), as written. */
function flagsOf(doc: Json): Map<string, Json> {
  const entries: [string, Json][] = Array.isArray(doc['flags'])
    ? (doc['flags'] as Json[]).map(({ key, ...flag }) => [String(key), flag])
    : Object.entries(isObject(doc['flags']) ? (doc['flags'] as Record<string, Json>) : {});
  return new Map(entries);
}

/** A document's shared evaluators by name. */
function evaluatorsOf(doc: Json): Map<string, unknown> {
  const evaluators = doc['$evaluators'];
  return new Map(isObject(evaluators) ? Object.entries(evaluators) : []);
}

/**
 * One source's configuration as JSON text (YAML converted, within the evaluator's size and alias
 * limits). Nothing is validated here: the evaluator does that when the configuration is served.
 * The flags, evaluators and metadata are parsed only when asked for (to merge sources or to diff).
 * @internal
 */
export function readSourceDoc(name: string, input: ConfigurationInput): SourceDoc {
  const json = namingSource(name, () => asJson(input));
  let parsed: Pick<SourceDoc, 'flags' | 'evaluators' | 'metadata'> | undefined;
  const parsedDoc = () => {
    if (parsed === undefined) {
      const doc = JSON.parse(json) as Json;
      parsed = {
        flags: flagsOf(doc),
        evaluators: evaluatorsOf(doc),
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
    get evaluators() {
      return parsedDoc().evaluators;
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
 * already inlined (within the limits of {@link Inliner}), so no source's `$evaluators` can shadow
 * another's. Throws an {@link InvalidConfigurationError} naming the source and the flag when the
 * inlined flags would be over the limits.
 * @internal
 */
export function mergeSources(docs: readonly SourceDoc[]): string {
  if (docs.length === 0) return '{"flags":{}}';
  if (docs.length === 1) return (docs[0] as SourceDoc).json;
  const latest = new Map<string, [Json, SourceDoc]>();
  for (const doc of docs) {
    for (const [key, flag] of doc.flags) {
      latest.delete(key); // the later source's flag takes the later place, too
      latest.set(key, [flag, doc]);
    }
  }
  const inliners = new Map<SourceDoc, Inliner>();
  let nodes = 0;
  const merged = new Map<string, Json>();
  for (const [key, [flag, doc]] of latest) {
    let inlined = flag;
    const targeting = flag['targeting'];
    if (targeting !== undefined && doc.evaluators.size > 0) {
      let inliner = inliners.get(doc);
      if (inliner === undefined) inliners.set(doc, (inliner = new Inliner(doc.evaluators)));
      const size = inliner.measure(targeting);
      if (size.refs.size > 0) nodes += size.nodes;
      checkInlined(doc.name, key, size, nodes);
      inlined = { ...flag, targeting: inliner.inline(targeting) };
    }
    const own = isObject(flag['metadata']) ? flag['metadata'] : undefined;
    const { metadata } = doc;
    merged.set(
      key,
      metadata === undefined ? inlined : { ...inlined, metadata: { ...metadata, ...own } },
    );
  }
  // Object.fromEntries defines own properties: a "__proto__" key stays a key.
  return JSON.stringify({ flags: Object.fromEntries(merged) });
}

/** Throws when one flag, or all merged so far (`nodes`), would be over the limits once inlined. */
function checkInlined(source: string, key: string, size: Expansion, nodes: number): void {
  const limits = { maxDepth: DEFAULT_LIMITS.maxDepth, maxNodes: DEFAULT_LIMITS.maxRuleNodes };
  // `{"flags": {"key": {"targeting": rule}}}`: three levels down
  const problem =
    overLimits(size, 3, limits) ??
    (nodes > limits.maxNodes
      ? {
          rule: 'max-nodes',
          detail: `brings the merged flags to ${nodes} nodes once their $refs are inlined, over the limit of ${limits.maxNodes}`,
        }
      : undefined);
  if (problem === undefined) return;
  const uses = [...size.refs].map((ref) => `$evaluators.${ref}`).join(', ');
  const message = `${source}: targeting ${problem.detail} (it uses ${uses})`;
  const path = `${childPath(childPath('flags', key), 'targeting')}`;
  throw new InvalidConfigurationError([{ severity: 'error', path, rule: problem.rule, message }]);
}

/**
 * The flag keys added, removed and changed from one version of a source to the next. A flag changes
 * when its definition, the set metadata, or a shared evaluator it uses (directly or through
 * another) changes. @internal
 */
export function diffSourceDocs(
  previous: SourceDoc | undefined,
  next: SourceDoc,
): Record<'added' | 'removed' | 'changed', string[]> {
  const before = previous?.flags ?? new Map<string, Json>();
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const metadataChanged = !same(previous?.metadata, next.metadata);
  const { dirty, refsOf } = changedEvaluators(previous?.evaluators ?? new Map(), next.evaluators);
  const changed = (key: string) => {
    const flag = next.flags.get(key) as Json;
    if (metadataChanged || !same(before.get(key), flag)) return true;
    if (dirty.size === 0 || flag['targeting'] === undefined) return false;
    return [...refsOf(flag['targeting'])].some((ref) => dirty.has(ref));
  };
  return {
    added: [...next.flags.keys()].filter((key) => !before.has(key)),
    removed: [...before.keys()].filter((key) => !next.flags.has(key)),
    changed: [...next.flags.keys()].filter((key) => before.has(key) && changed(key)),
  };
}

/**
 * The evaluators whose meaning changed: those added, removed or edited, and those that use one of
 * them (directly or through another). `refsOf` gives the evaluators a rule names directly.
 */
function changedEvaluators(
  before: ReadonlyMap<string, unknown>,
  after: ReadonlyMap<string, unknown>,
): { dirty: Set<string>; refsOf: (rule: unknown) => ReadonlySet<string> } {
  const every = new Map([...before, ...after]); // a removed evaluator is still recognised
  const measure = expansionMeter(every);
  const refsOf = (rule: unknown) => measure(rule).refs;
  const dirty = new Set<string>();
  for (const name of every.keys()) {
    const [a, b] = [before.get(name), after.get(name)];
    if (!before.has(name) || !after.has(name) || JSON.stringify(a) !== JSON.stringify(b))
      dirty.add(name);
  }
  if (dirty.size === 0) return { dirty, refsOf };
  const users = new Map<string, string[]>(); // evaluator → the evaluators that name it
  for (const [name, rule] of every) {
    for (const ref of refsOf(rule)) {
      const list = users.get(ref);
      if (list === undefined) users.set(ref, [name]);
      else list.push(name);
    }
  }
  const pending = [...dirty];
  while (pending.length > 0) {
    for (const user of users.get(pending.pop() as string) ?? []) {
      if (dirty.has(user)) continue;
      dirty.add(user);
      pending.push(user);
    }
  }
  return { dirty, refsOf };
}
