import { parseTree, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

/** A place in a text, both 1-based. */
export interface Location {
  readonly line: number;
  readonly column: number;
}

/** Where a JSON path is written in a file; `syntax` is where the text stops parsing, if it does. */
export interface Locator {
  /** Where `path` is written: a property's key, an array item, or the nearest ancestor present. */
  at(path: string): Location | undefined;
  /** Where the text stops being valid JSON or YAML, if it does. */
  readonly syntax: Location | undefined;
}

type Segment = string | number;

const SEGMENT = /^(?:\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

/**
 * The keys and indexes of a JSON path as the evaluator writes them (`flags["new-ui"].targeting.if[0]`,
 * `$evaluators.rings`); `undefined` when it is not one.
 */
export function pathSegments(path: string): Segment[] | undefined {
  const segments: Segment[] = [];
  let rest = path;
  while (rest !== '') {
    const match = SEGMENT.exec(rest);
    if (match === null) return undefined;
    const [whole, name, index, quoted] = match;
    if (name !== undefined) segments.push(name);
    else if (index !== undefined) segments.push(Number(index));
    else segments.push(JSON.parse(quoted as string) as string);
    rest = rest.slice(whole.length);
  }
  return segments;
}

/** Line and column (1-based) of an offset in `text`: the line starts found once, then searched. */
function lineIndex(text: string): (offset: number) => Location {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
  };
}

/** The node at `segments` in a JSON tree, or the deepest one present on the way. */
function jsonNodeAt(root: JsonNode, segments: readonly Segment[]): JsonNode {
  let node = root;
  for (const segment of segments) {
    let next: JsonNode | undefined;
    if (node.type === 'object')
      next = node.children?.find((p) => p.children?.[0]?.value === String(segment))?.children?.[1];
    else if (node.type === 'array' && typeof segment === 'number') next = node.children?.[segment];
    if (next === undefined) break;
    node = next;
  }
  // a property's value: point at its key, where a reader looks for it
  return node.parent?.type === 'property' ? (node.parent.children?.[0] ?? node) : node;
}

function jsonLocator(text: string): Locator {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const first = errors[0];
  const locationOf = lineIndex(text);
  return {
    syntax: first === undefined ? undefined : locationOf(first.offset),
    at(path) {
      const segments = pathSegments(path);
      if (root === undefined || segments === undefined) return undefined;
      return locationOf(jsonNodeAt(root, segments).offset);
    },
  };
}

function yamlLocator(text: string): Locator {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  const first = doc.errors[0];
  const position = (offset: number): Location => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return {
    syntax: first === undefined ? undefined : position(first.pos[0]),
    at(path) {
      const segments = pathSegments(path);
      if (segments === undefined) return undefined;
      let node: Node | null = doc.contents;
      let offset = node?.range?.[0];
      for (const segment of segments) {
        if (isAlias(node)) node = node.resolve(doc) ?? null;
        let next: Node | null | undefined;
        if (isMap(node)) {
          const pair = node.items.find(
            (p) => isScalar(p.key) && String(p.key.value) === String(segment),
          );
          if (pair !== undefined && isScalar(pair.key)) offset = pair.key.range?.[0] ?? offset;
          next = pair?.value as Node | null | undefined;
          if (pair === undefined) break;
        } else if (isSeq(node) && typeof segment === 'number') {
          next = node.items[segment] as Node | undefined;
          if (next === undefined) break;
          offset = next?.range?.[0] ?? offset;
        } else break;
        node = next ?? null;
      }
      return offset === undefined ? undefined : position(offset);
    },
  };
}

/**
 * Finds JSON paths in a flag file's text, JSON or YAML (JSON when it starts with `{` or `[`, as the
 * evaluator decides).
 */
export function locatorFor(text: string): Locator {
  const first = text.trimStart()[0];
  return first === '{' || first === '[' ? jsonLocator(text) : yamlLocator(text);
}
