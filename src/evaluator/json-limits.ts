import { childPath } from './json-path.js';

/**
 * Depth limits for JSON that comes from outside: request bodies, sync payloads, files, contexts.
 * Every check here is iterative, so a hostile document nested 100,000 deep is refused with a clear
 * error instead of overflowing the stack in whatever walks it next.
 */

/** The nesting depth of JSON text (objects and arrays), counted without parsing it. @internal */
export function textDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return max;
}

/** Where a JSON path is cut when an error names it: past this many steps, `…` stands for the rest. */
const PATH_STEPS = 4;

/**
 * The JSON path (as {@link childPath} writes it) of the first object or array of `text` nested
 * deeper than `maxDepth`, cut after a few steps, or undefined when none is. Scans the text once,
 * without parsing it. @internal
 */
export function pathPastDepth(text: string, maxDepth: number): string | undefined {
  // one frame per open object or array: its key or index so far
  const frames: { key: string | number; array: boolean; expectKey: boolean }[] = [];
  const path = () => {
    const steps = frames.slice(0, -1); // the keys leading to the frame just opened
    let at = '';
    for (const step of steps.slice(0, PATH_STEPS)) at = childPath(at, step.key);
    return steps.length > PATH_STEPS ? `${at}…` : at;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = frames[frames.length - 1];
    if (c === 0x22 /* " */) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 0x22)
        end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      if (top !== undefined && !top.array && top.expectKey) {
        try {
          top.key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          top.key = text.slice(i + 1, end);
        }
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      frames.push({ key: c === 0x5b ? 0 : '', array: c === 0x5b, expectKey: c === 0x7b });
      if (frames.length > maxDepth) return path();
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) frames.pop();
    else if (c === 0x2c /* , */ && top !== undefined) {
      if (top.array) top.key = (top.key as number) + 1;
      else top.expectKey = true;
    }
  }
  return undefined;
}

/**
 * Whether a parsed value nests objects and arrays deeper than `maxDepth`. Iterative, stops at the
 * first level past the limit, and treats an object reached twice as too deep (a cycle has no
 * depth; parsed JSON never shares an object). @internal
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth || seen.has(current)) return true;
    seen.add(current);
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children)
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** Why {@link parseJsonText} refused a text. @internal */
export type JsonTextProblem = 'max-size' | 'max-depth' | 'syntax';

/** A JSON text refused by {@link parseJsonText}; `rule` says why, `path` where (when known). @internal */
export class JsonTextError extends Error {
  override readonly name = 'JsonTextError';
  readonly rule: JsonTextProblem;
  readonly path: string;
  constructor(rule: JsonTextProblem, message: string, path = '') {
    super(message);
    this.rule = rule;
    this.path = path;
  }
}

/**
 * `JSON.parse` within a size (UTF-16 code units) and a nesting depth; throws a
 * {@link JsonTextError} naming the limit or the syntax error. @internal
 */
export function parseJsonText(
  text: string,
  limits: { readonly maxBytes: number; readonly maxDepth: number },
  /** The text's {@link textDepth}, when a scan of the caller's has measured it already. */
  measured?: number,
): unknown {
  if (text.length > limits.maxBytes)
    throw new JsonTextError(
      'max-size',
      `${text.length} bytes, over the limit of ${limits.maxBytes}`,
    );
  const depth = measured ?? textDepth(text);
  if (depth > limits.maxDepth) {
    const path = pathPastDepth(text, limits.maxDepth) ?? '';
    throw new JsonTextError(
      'max-depth',
      `nested ${depth} levels deep${path === '' ? '' : ` at ${path}`}, over the limit of ${limits.maxDepth}`,
      path,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new JsonTextError('syntax', `not valid JSON: ${(error as Error).message}`);
  }
}

/** Why {@link objectProblem} refused a value. @internal */
export interface ObjectProblem {
  readonly rule: 'cycle' | 'max-depth' | 'max-size';
  readonly message: string;
}

interface Frame {
  readonly node: object;
  readonly children: readonly unknown[];
  next: number;
  height: number;
  nodes: number;
}

const frame = (node: object): Frame => ({
  node,
  children: Array.isArray(node) ? node : Object.values(node),
  next: 0,
  height: 0,
  nodes: 1,
});

/**
 * Whether a value built in code (not parsed) can be copied as JSON within limits: no cycle, no
 * nesting past `maxDepth`, at most `maxNodes` values once shared objects are counted at every place
 * they appear (as `JSON.stringify` would write them). Iterative; each object is walked once, so a
 * structure that shares sub-objects exponentially is measured in linear time. @internal
 */
export function objectProblem(
  value: unknown,
  maxDepth: number,
  maxNodes: number,
): ObjectProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (maxDepth < 1) return tooDeep(maxDepth);
  const measured = new Map<object, { height: number; nodes: number }>();
  const onPath = new Set<object>([value]);
  const stack: Frame[] = [frame(value)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (top.next < top.children.length) {
      const child = top.children[top.next++];
      if (typeof child !== 'object' || child === null) top.nodes++;
      else if (onPath.has(child))
        return { rule: 'cycle', message: 'it contains itself (a cycle cannot be JSON)' };
      else {
        const known = measured.get(child);
        if (known === undefined) {
          if (stack.length >= maxDepth) return tooDeep(maxDepth);
          onPath.add(child);
          stack.push(frame(child));
          continue;
        }
        top.nodes += known.nodes;
        top.height = Math.max(top.height, known.height);
      }
      if (top.nodes > maxNodes) return tooBig(maxNodes);
      continue;
    }
    stack.pop();
    onPath.delete(top.node);
    const done = { height: top.height + 1, nodes: top.nodes };
    measured.set(top.node, done);
    const parent = stack[stack.length - 1];
    if (parent === undefined) break;
    parent.nodes += done.nodes;
    parent.height = Math.max(parent.height, done.height);
    if (parent.nodes > maxNodes) return tooBig(maxNodes);
  }
  return undefined;
}

const tooDeep = (maxDepth: number): ObjectProblem => ({
  rule: 'max-depth',
  message: `it is nested deeper than ${maxDepth} levels`,
});
const tooBig = (maxNodes: number): ObjectProblem => ({
  rule: 'max-size',
  message: `it holds more than ${maxNodes} values`,
});
