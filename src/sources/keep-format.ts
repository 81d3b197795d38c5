import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  Scalar,
  stringify as stringifyYaml,
  type Document,
  type Node,
} from 'yaml';
import { parseJsonText } from '../evaluator/json-limits.js';

/**
 * Rewrites a stored configuration the way people wrote it, so one changed flag is a small diff in
 * review: JSON keeps its indentation, line endings and final newline; YAML stays YAML and keeps its
 * comments, key order and untouched formatting (changes are applied to the parsed document). Pure
 * functions; the sources own the reads and writes. @internal
 */

/** The most a written configuration may hold and nest, as the evaluator's defaults. */
export const WRITE_LIMITS = { maxBytes: 16 * 1024 * 1024, maxDepth: 128 } as const;

/** How a JSON text is laid out. */
export interface JsonStyle {
  /** `''` for one line, else the indentation of one level (spaces or a tab). */
  readonly indent: string;
  readonly eol: '\n' | '\r\n';
  readonly finalNewline: boolean;
}

/** Two spaces and a final newline: the style of a configuration with none of its own. */
export const DEFAULT_JSON_STYLE: JsonStyle = { indent: '  ', eol: '\n', finalNewline: true };

/** The layout of `text`: its first indented line gives the indentation; none means one line. */
export function jsonStyleOf(text: string): JsonStyle {
  if (text.trim() === '') return DEFAULT_JSON_STYLE;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indented = /\n([ \t]+)\S/.exec(text);
  const whitespace = indented?.[1] ?? '';
  const indent = whitespace.startsWith('\t') ? '\t' : whitespace;
  return { indent, eol, finalNewline: /\n\s*$/.test(text) };
}

/** `value` as JSON text in `style`. */
export function renderJson(value: unknown, style: JsonStyle): string {
  const text = JSON.stringify(value, null, style.indent);
  const lines = style.eol === '\n' ? text : text.replace(/\n/g, style.eol);
  return style.finalNewline ? lines + style.eol : lines;
}

/** Whether stored text is YAML: flagd reads text not starting with `{` or `[` as YAML. */
export function isYamlText(text: string, path = ''): boolean {
  const first = text.trimStart()[0];
  if (first === undefined) return /\.ya?ml$/i.test(path);
  return first !== '{' && first !== '[';
}

/**
 * `configuration` (JSON text of the whole document) in the format of `previous`, the stored text:
 * YAML if that is YAML (at `path`, for an empty file), else JSON in its style. Throws a
 * `JsonTextError` when `configuration` is not JSON or exceeds {@link WRITE_LIMITS}.
 */
export function inFormatOf(previous: string, configuration: string, path = ''): string {
  const value = parseJsonText(configuration, WRITE_LIMITS);
  if (isYamlText(previous, path)) return updateYaml(previous, value);
  return updateJson(previous, value) ?? renderJson(value, jsonStyleOf(previous));
}

/** Past this size a JSON file is re-rendered rather than edited in place (parsing it costs). */
const IN_PLACE_JSON_BYTES = 1024 * 1024;

/**
 * `previous` JSON with only its changed scalars rewritten in place, so everything else (inline
 * objects, spacing, key order) stays byte for byte; undefined when the structure changed (keys
 * added or removed, lengths changed), and the file is then rendered in its indentation. JSON is
 * YAML, so the YAML parser gives each value's place in the text.
 */
function updateJson(previous: string, value: unknown): string | undefined {
  if (previous.length > IN_PLACE_JSON_BYTES || previous.trim() === '') return undefined;
  let doc: Document;
  try {
    doc = parseDocument(previous);
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0) return undefined;
  const edits = scalarEdits(doc.contents as Node | null, value, [], true);
  return edits === undefined ? undefined : splice(previous, edits);
}

/**
 * `previous` YAML changed to hold `value`. When only scalars changed, each is rewritten in place in
 * the text, so everything else stays byte for byte. Otherwise the document is edited: changed
 * scalars set in place, removed keys deleted, new keys added at the end of their map, so comments
 * and untouched nodes stay, re-rendered by the YAML library. YAML that does not parse is replaced
 * whole.
 */
export function updateYaml(previous: string, value: unknown): string {
  let doc: Document;
  try {
    doc = parseDocument(previous);
  } catch {
    return stringifyYaml(value);
  }
  if (doc.errors.length > 0) return stringifyYaml(value);
  const edits = scalarEdits(doc.contents as Node | null, value);
  if (edits !== undefined) return splice(previous, edits);
  doc.contents = apply(doc, doc.contents as Node | null, value) as typeof doc.contents;
  return doc.toString();
}

/** One change to a YAML text: the characters from `start` to `end` become `text`. */
interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * The text edits that make `node` hold `value` when only scalars changed (the same keys, the same
 * lengths: a rollout step's weights and state), each scalar rewritten in its own quoting style, so
 * everything else, flow style and comments included, stays byte for byte. Undefined when the
 * structure changed, or a changed scalar is a block scalar or an alias.
 */
function scalarEdits(
  node: Node | null,
  value: unknown,
  edits: Edit[] = [],
  json = false,
): Edit[] | undefined {
  if (node === null || isAlias(node)) return undefined;
  if (isMap(node)) {
    if (!isPlainObject(value)) return undefined;
    const keys = node.items.map((pair) => keyOf(pair.key));
    if (keys.length !== Object.keys(value).length || !keys.every((k) => Object.hasOwn(value, k)))
      return undefined;
    for (const pair of node.items)
      if (scalarEdits(pair.value as Node | null, value[keyOf(pair.key)], edits, json) === undefined)
        return undefined;
    return edits;
  }
  if (isSeq(node)) {
    if (!Array.isArray(value) || value.length !== node.items.length) return undefined;
    for (const [i, item] of node.items.entries())
      if (scalarEdits(item as Node | null, value[i], edits, json) === undefined) return undefined;
    return edits;
  }
  if (!isScalar(node) || (value !== null && typeof value === 'object')) return undefined;
  if (node.value === value) return edits;
  const text = json
    ? JSON.stringify(value)
    : scalarText(node, value as string | number | boolean | null);
  if (text === undefined || node.range === undefined || node.range === null) return undefined;
  edits.push({ start: node.range[0], end: node.range[1], text });
  return edits;
}

/** A scalar's new text in the style the old one was written in; undefined for block scalars. */
function scalarText(node: Scalar, value: string | number | boolean | null): string | undefined {
  if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) return undefined;
  if (typeof value === 'string') {
    if (node.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
    if (node.type === Scalar.QUOTE_SINGLE) return `'${value.replaceAll("'", "''")}'`;
  }
  const text = stringifyYaml(value).trimEnd();
  return text.includes('\n') ? undefined : text;
}

/** `text` with `edits` applied (they do not overlap). */
function splice(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** `node` made to hold `value`, reusing what it can; `value` is bounded by {@link WRITE_LIMITS}. */
function apply(doc: Document, node: Node | null, value: unknown): Node {
  if (node !== null && isAlias(node)) return doc.createNode(value); // an alias cannot be edited
  if (isPlainObject(value) && node !== null && isMap(node)) {
    const keys = new Set(Object.keys(value));
    node.items = node.items.filter((pair) => keys.has(keyOf(pair.key)));
    for (const [key, child] of Object.entries(value)) {
      const pair = node.items.find((p) => keyOf(p.key) === key);
      if (pair === undefined) node.add(doc.createPair(key, child));
      else pair.value = apply(doc, pair.value as Node | null, child);
    }
    return node;
  }
  if (Array.isArray(value) && node !== null && isSeq(node)) {
    node.items = node.items
      .slice(0, value.length)
      .map((item, i) => apply(doc, item as Node | null, value[i]));
    for (const item of value.slice(node.items.length)) node.add(doc.createNode(item));
    return node;
  }
  const scalar = value === null || typeof value !== 'object';
  if (scalar && node !== null && isScalar(node)) {
    if (node.value !== value) node.value = value;
    return node;
  }
  return doc.createNode(value);
}

function keyOf(key: unknown): string {
  return String(isScalar(key) ? key.value : key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
