import { isObject } from './json-path.js';

/**
 * How big rules are once every `{"$ref": name}` is replaced by the shared evaluator it names, as
 * flagd (and the server's multi-file merge) inline them. Shared evaluators that each use the
 * previous one twice double at every step: 30 of them, 1 KB of text, expand to a billion nodes.
 * The sizes are computed without expanding anything: each evaluator is measured once, iteratively.
 */

/** A rule's size with its `$ref`s inlined. @internal */
export interface Expansion {
  /** JSON values (objects, arrays, scalars) it holds. */
  readonly nodes: number;
  /** Its nesting depth (objects and arrays), as `textDepth` counts it: `{}` is 1, `1` is 0. */
  readonly height: number;
  /** The shared evaluators it names directly. */
  readonly refs: ReadonlySet<string>;
  /**
   * Whether it reaches a `$ref` that closes a cycle. Such a `$ref` cannot be inlined (it stays, and
   * the rule fails to compile), so the sizes count it as the `$ref` it is.
   */
  readonly cyclic: boolean;
}

/** The limits a rule must keep once its `$ref`s are inlined. @internal */
export interface ExpansionLimits {
  readonly maxDepth: number;
  readonly maxNodes: number;
}

/**
 * The evaluator `node` refers to when it is a `$ref` to one of `evaluators` (`{"$ref": "name"}`, or
 * `{"$ref": ["name"]}` as JSON Logic unwraps arguments), else `undefined`. @internal
 */
export function refName(
  node: unknown,
  evaluators: ReadonlyMap<string, unknown>,
): string | undefined {
  if (!isObject(node) || !Object.hasOwn(node, '$ref')) return undefined;
  let count = 0;
  for (const _ in node) if (++count > 1) return undefined;
  const raw = node['$ref'];
  const name = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  return typeof name === 'string' && evaluators.has(name) ? name : undefined;
}

/**
 * A function measuring rules against `evaluators`, each evaluator measured once and remembered. A
 * `$ref` to an unknown name, or one that closes a cycle, counts as what it is (it stays a `$ref`).
 * @internal
 */
export function expansionMeter(
  evaluators: ReadonlyMap<string, unknown>,
): (rule: unknown) => Expansion {
  const measured = new Map<string, Expansion>();
  const active = new Set<string>();
  /** Measures `root` and every evaluator it needs first, depth-first with a stack of its own. */
  const ensure = (root: string): void => {
    const pending = [root];
    while (pending.length > 0) {
      const name = pending[pending.length - 1] as string;
      if (measured.has(name)) {
        pending.pop();
        continue;
      }
      const missing: string[] = [];
      const result = walk(evaluators.get(name), evaluators, (ref) => {
        const known = measured.get(ref);
        if (known === undefined && ref !== name && !active.has(ref)) missing.push(ref);
        return known;
      });
      if (missing.length > 0 && !active.has(name)) {
        active.add(name); // measured again once what it needs is
        pending.push(...missing);
      } else {
        measured.set(name, result);
        active.delete(name);
        pending.pop();
      }
    }
  };
  return (rule) =>
    walk(rule, evaluators, (ref) => {
      ensure(ref);
      return measured.get(ref);
    });
}

/** Measures `rule`; `inlined` gives a referenced evaluator's size, or `undefined` to count the `$ref` itself. */
function walk(
  rule: unknown,
  evaluators: ReadonlyMap<string, unknown>,
  inlined: (name: string) => Expansion | undefined,
): Expansion {
  let nodes = 0;
  let height = 0;
  let cyclic = false;
  const refs = new Set<string>();
  const stack: [unknown, number][] = [[rule, 0]];
  while (stack.length > 0) {
    const [node, above] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) {
      nodes++;
      continue;
    }
    const name = refName(node, evaluators);
    const size = name === undefined ? undefined : inlined(name);
    if (name !== undefined) {
      refs.add(name);
      if (size === undefined || size.cyclic) cyclic = true;
    }
    if (size !== undefined) {
      nodes += size.nodes;
      height = Math.max(height, above + size.height);
      continue;
    }
    nodes++;
    height = Math.max(height, above + 1);
    for (const child of Array.isArray(node) ? node : Object.values(node))
      stack.push([child, above + 1]);
  }
  return { nodes, height, refs, cyclic };
}

/** Why a rule is over the limits, or `undefined`; `levelsAbove` is its depth in the document. @internal */
export function overLimits(
  size: Expansion,
  levelsAbove: number,
  limits: ExpansionLimits,
): { rule: 'max-nodes' | 'max-depth'; detail: string } | undefined {
  if (size.nodes > limits.maxNodes) {
    return {
      rule: 'max-nodes',
      detail: `expands to ${size.nodes} nodes once its $refs are inlined, over the limit of ${limits.maxNodes}`,
    };
  }
  if (levelsAbove + size.height > limits.maxDepth) {
    return {
      rule: 'max-depth',
      detail: `is nested ${levelsAbove + size.height} levels deep once its $refs are inlined, over the limit of ${limits.maxDepth}`,
    };
  }
  return undefined;
}
