/**
 * Where each flag's definition sits in a configuration's JSON text: the evaluator keeps a flag's
 * text as a slice of the document it already holds (V8 shares the characters) rather than a copy
 * written again by `JSON.stringify`. The same single pass measures the text's nesting depth (as
 * `textDepth` does), so a configuration is scanned once before `JSON.parse`, not twice.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DOLLAR = 0x24;

/** The flags' texts found by {@link scanConfigurationJson}. @internal */
export interface FlagTexts {
  /** Each flag's text by key (map form) or index (array form); a repeated key keeps its last. */
  readonly texts: Map<string | number, string>;
  /**
   * Flags whose text holds a backslash or `$ref` (the evaluator writes those with
   * `JSON.stringify` instead), or `undefined` for none.
   */
  readonly escaped: Set<string | number> | undefined;
}

/** What one pass over a JSON text found. @internal */
export interface ScannedJson {
  /** The nesting depth of objects and arrays, exactly as `textDepth` counts it. */
  readonly depth: number;
  /** `undefined` when the text has no `flags` object or array at the top level. */
  readonly flags: FlagTexts | undefined;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function keyOf(text: string, start: number, end: number, escaped: boolean): string {
  if (!escaped) return text.slice(start + 1, end);
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return text.slice(start + 1, end); // not JSON: JSON.parse refuses the whole text later
  }
}

/**
 * One pass over a text (any text: it runs before `JSON.parse` and never loops or throws on bad
 * JSON): its nesting depth, and where each flag's value is. The positions are meaningful only for
 * a text `JSON.parse` then accepts. @internal
 */
export function scanConfigurationJson(text: string): ScannedJson {
  const n = text.length;
  let depth = 0;
  let max = 0;
  // the root object's members
  let rootObject = false;
  let rootKey = false; // the next string at depth 1 is a key
  let flagsKey = false; // the last root key was "flags"
  let rootValue = false; // past a root key's colon, before its value
  let texts: Map<string | number, string> | undefined;
  let escapedFlags: Set<string | number> | undefined;
  // the members of the "flags" object or array (at depth 2)
  let inFlags = false;
  let flagsObject = false;
  let memberKey: string | number = 0;
  let index = 0;
  let expectKey = false; // the next string at depth 2 is a member's key
  let awaitValue = false; // past a member's colon (or the array's `[` or `,`), before its value
  let start = -1; // where the current member's value starts
  let last = 0; // just past the last character that is not whitespace
  let dirty = false; // the current member's value holds a backslash or `$ref`
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) continue;
    if (awaitValue) {
      awaitValue = false;
      if (c !== 0x7d && c !== 0x5d) {
        start = i;
        dirty = false;
      }
    }
    if (rootValue) {
      rootValue = false;
      if (flagsKey) {
        // a repeated "flags" keeps its last value, as JSON.parse does
        texts = undefined;
        escapedFlags = undefined;
        if (c === 0x7b || c === 0x5b) {
          texts = new Map();
          inFlags = true;
          flagsObject = c === 0x7b;
          index = 0;
          memberKey = 0;
          expectKey = flagsObject;
          awaitValue = !flagsObject;
        }
      }
    }
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          escaped = true;
          j++;
        } else if (d === DOLLAR && text.startsWith('ref', j + 1)) dirty = true;
      }
      if (escaped) dirty = true;
      if (depth === 1 && rootKey) {
        rootKey = false;
        flagsKey = keyOf(text, i, j, escaped) === 'flags';
      } else if (depth === 2 && inFlags && expectKey) {
        expectKey = false;
        memberKey = keyOf(text, i, j, escaped);
      }
      i = j;
      last = j + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) max = depth;
      if (depth === 1) rootKey = rootObject = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 2 && inFlags) {
        if (awaitValue) awaitValue = false;
        if (start >= 0 && texts !== undefined) {
          // the member's value ends here (no closure: it would move these variables to the heap)
          texts.set(memberKey, text.slice(start, last));
          if (dirty) (escapedFlags ??= new Set()).add(memberKey);
          else escapedFlags?.delete(memberKey);
          start = -1;
        }
        inFlags = false;
      }
      depth--;
    } else if (c === 0x3a /* : */) {
      if (depth === 1) rootValue = true;
      else if (depth === 2 && inFlags && flagsObject) awaitValue = true;
    } else if (c === 0x2c /* , */) {
      if (depth === 1) rootKey = rootObject;
      else if (depth === 2 && inFlags) {
        if (start >= 0 && texts !== undefined) {
          // the member's value ends here (no closure: it would move these variables to the heap)
          texts.set(memberKey, text.slice(start, last));
          if (dirty) (escapedFlags ??= new Set()).add(memberKey);
          else escapedFlags?.delete(memberKey);
          start = -1;
        }
        if (flagsObject) expectKey = true;
        else {
          memberKey = ++index;
          awaitValue = true;
        }
      }
    }
    last = i + 1;
  }
  return {
    depth: max,
    flags: texts === undefined ? undefined : { texts, escaped: escapedFlags },
  };
}

/**
 * The text of each flag of a configuration that `JSON.parse` accepted: by key for the map form, by
 * index for the array form; `undefined` when the document has no `flags` object or array. A key
 * given twice keeps its last value, as `JSON.parse` does. @internal
 */
export function flagTexts(text: string): Map<string | number, string> | undefined {
  return scanConfigurationJson(text).flags?.texts;
}
