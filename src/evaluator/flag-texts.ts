/**
 * Where each flag's definition sits in a configuration's JSON text: the evaluator keeps a flag's
 * text as a slice of the document it already holds (V8 shares the characters) rather than a copy
 * written again by `JSON.stringify`. The same single pass measures the text's nesting depth (as
 * `textDepth` does), so a configuration is scanned once before `JSON.parse`, not twice.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Where a configuration's `flags` value is ({@link FlagTexts.span}). @internal */
export interface FlagsSpan {
  readonly open: number;
  readonly close: number;
  readonly checked: boolean;
}

/**
 * The flags found by {@link scanConfigurationJson}: each member of the `flags` object or array,
 * in the text's order (a repeated key included). @internal
 */
export class FlagTexts {
  readonly #text: string;
  /** Per member: its key's opening and closing quotes (array form: -1 and its index), its value's start and end. */
  readonly #members: readonly number[];
  readonly #escaped: ReadonlySet<number> | undefined;
  #byKey: Map<string | number, number> | undefined;
  /** Whether `flags` is an object (the map form), not an array. */
  readonly mapForm: boolean;
  /** Whether some key of the map form may be an array index (`Object.keys` lists those first). */
  readonly indexLike: boolean;
  /**
   * Where the `flags` value opens and closes, and whether its keys and punctuation (all but the
   * flags' values) were found to be JSON: then the document needs no more than its other members
   * and each flag's value parsed.
   */
  readonly span: FlagsSpan;

  /** @internal */
  constructor(
    text: string,
    members: readonly number[],
    escaped: ReadonlySet<number> | undefined,
    mapForm: boolean,
    indexLike: boolean,
    span: FlagsSpan,
  ) {
    this.#text = text;
    this.#members = members;
    this.#escaped = escaped;
    this.mapForm = mapForm;
    this.indexLike = indexLike;
    this.span = span;
  }

  /**
   * The map form's keys in the text's order (`Object.keys` order when none is index-like), or
   * `undefined` when a key is given twice.
   */
  keys(): string[] | undefined {
    const keys: string[] = [];
    for (let m = 0; m < this.count; m++) keys.push(this.key(m) as string);
    return new Set(keys).size === keys.length ? keys : undefined;
  }

  /** How many members `flags` has in the text, a repeated key counted each time. */
  get count(): number {
    return this.#members.length / 4;
  }

  /** The text of member `m`'s value. */
  text(m: number): string {
    return this.#text.slice(this.#members[4 * m + 2], this.#members[4 * m + 3]);
  }

  /** Whether member `m`'s value holds a backslash or `$ref` (written again by `JSON.stringify`). */
  escaped(m: number): boolean {
    return this.#escaped?.has(m) === true;
  }

  /** Where each member's value is: start and end pairs, in the text's order. */
  bounds(): number[] {
    const bounds: number[] = [];
    for (let i = 2; i < this.#members.length; i += 4)
      bounds.push(this.#members[i] as number, this.#members[i + 1] as number);
    return bounds;
  }

  /** The member with key (map form) or index (array form) `at`; the last of a repeated key. */
  memberOf(at: string | number): number | undefined {
    if (this.#byKey === undefined) {
      this.#byKey = new Map();
      for (let m = 0; m < this.count; m++) this.#byKey.set(this.key(m), m);
    }
    return this.#byKey.get(at);
  }

  /** Member `m`'s key (map form) or index (array form). */
  key(m: number): string | number {
    const open = this.#members[4 * m] as number;
    const close = this.#members[4 * m + 1] as number;
    if (open < 0) return close;
    let escaped = false;
    for (let i = open + 1; i < close && !escaped; i++)
      escaped = this.#text.charCodeAt(i) === BACKSLASH;
    return keyOf(this.#text, open, close, escaped);
  }
}

/** What one pass over a JSON text found. @internal */
export interface ScannedJson {
  /** The nesting depth of objects and arrays, exactly as `textDepth` counts it. */
  readonly depth: number;
  /** `undefined` when the text has no `flags` object or array at the top level. */
  readonly flags: FlagTexts | undefined;
}

/** Where `search` next occurs in `text` from `from`, or `n` (the text's length) when nowhere. */
function indexOr(text: string, search: string, from: number, n: number): number {
  const at = text.indexOf(search, from);
  return at < 0 ? n : at;
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
 * Whether the string between the quotes at `open` and `close` is JSON's: no control character,
 * and (when it has backslashes) escapes JSON knows. The text ending first is no string.
 */
function isJsonString(text: string, open: number, close: number, escaped: boolean): boolean {
  if (close >= text.length) return false;
  if (escaped) {
    try {
      JSON.parse(text.slice(open, close + 1));
      return true;
    } catch {
      return false;
    }
  }
  for (let i = open + 1; i < close; i++) if (text.charCodeAt(i) < 0x20) return false;
  return true;
}

/** What {@link skipNested} carries from one value to the next. */
interface Cursor {
  /** The deepest nesting so far. */
  max: number;
  /** The next backslash, as in {@link scanConfigurationJson}. */
  backslash: number;
  /** Where the last string holding a backslash starts. */
  escapedAt: number;
}

/**
 * Skips a value three levels down from where it opened (just before `from`) to the bracket that
 * closes it, and returns that bracket's index (`n` when the text ends first). A function of its
 * own, called once per flag, so that it is optimised after a few flags and stays so from one
 * configuration to the next (a loop inside a function called once per configuration is compiled
 * anew, mid-loop, each time).
 */
function skipNested(text: string, from: number, n: number, cursor: Cursor): number {
  let depth = 3;
  let max = cursor.max;
  let backslash = cursor.backslash;
  let i = from;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (backslash <= i) backslash = indexOr(text, '\\', i + 1, n);
      let j = indexOr(text, '"', i + 1, n);
      if (backslash < j) {
        cursor.escapedAt = i;
        for (j = i + 1; j < n; j++) {
          const d = text.charCodeAt(j);
          if (d === QUOTE) break;
          if (d === BACKSLASH) j++;
        }
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if ((c === 0x7d || c === 0x5d) && --depth === 2) break;
  }
  cursor.max = max;
  cursor.backslash = backslash;
  return i;
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
  let members: number[] | undefined; // as FlagTexts holds them
  let escapedFlags: Set<number> | undefined;
  let indexLike = false;
  // the members of the "flags" object or array (at depth 2)
  let inFlags = false;
  let flagsObject = false;
  let keyOpen = -1; // the current member's key's quotes (array form: -1 and its index)
  let keyClose = 0;
  let expectKey = false; // the next string at depth 2 is a member's key
  let expectColon = false; // past a member's key (map form)
  let afterComma = false; // the map form's last punctuation was a comma (a key must follow)
  let glue = false; // the map form's keys and punctuation are JSON so far
  let flagsOpen = -1; // where the last "flags" value opens and closes
  let flagsClose = -1;
  let awaitValue = false; // past a member's colon (or the array's `[` or `,`), before its value
  let start = -1; // where the current member's value starts
  let last = 0; // just past the last character that is not whitespace
  let backslash = -1; // the next backslash: none lies between where it was looked for and it
  let ref = -1; // the next `$ref`, likewise
  const cursor: Cursor = { max: 0, backslash: -1, escapedAt: -1 };
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) continue;
    if (glue && depth === 2 && inFlags && flagsObject) {
      // between the map form's values only keys and JSON's punctuation may stand
      if (expectColon) glue = c === 0x3a;
      else if (expectKey) glue = c === QUOTE || (c === 0x7d && !afterComma);
      else if (awaitValue) glue = c !== 0x2c && c !== 0x7d && c !== 0x5d && c !== 0x3a;
      else glue = c !== 0x3a && c !== 0x5d; // in a value: the rest is parsed with it
    }
    if (awaitValue) {
      awaitValue = false;
      if (c !== 0x7d && c !== 0x5d) start = i;
    }
    if (rootValue) {
      rootValue = false;
      if (flagsKey) {
        // a repeated "flags" keeps its last value, as JSON.parse does
        members = undefined;
        escapedFlags = undefined;
        indexLike = false;
        glue = false;
        if (c === 0x7b || c === 0x5b) {
          members = [];
          flagsOpen = i;
          flagsClose = -1;
          glue = c === 0x7b;
          afterComma = false;
          expectColon = false;
          inFlags = true;
          flagsObject = c === 0x7b;
          keyOpen = -1;
          keyClose = 0;
          expectKey = flagsObject;
          awaitValue = !flagsObject;
        }
      }
    }
    if (c === QUOTE) {
      // a string ends at the next quote unless a backslash comes first (then character by character)
      if (backslash <= i) backslash = indexOr(text, '\\', i + 1, n);
      let j = indexOr(text, '"', i + 1, n);
      const escaped = backslash < j;
      if (escaped) {
        cursor.escapedAt = i;
        for (j = i + 1; j < n; j++) {
          const d = text.charCodeAt(j);
          if (d === QUOTE) break;
          if (d === BACKSLASH) j++;
        }
      }
      if (depth === 1 && rootKey) {
        rootKey = false;
        flagsKey = keyOf(text, i, j, escaped) === 'flags';
      } else if (depth === 2 && inFlags && expectKey) {
        expectKey = false;
        expectColon = flagsObject;
        keyOpen = i;
        keyClose = j;
        const first = text.charCodeAt(i + 1);
        if ((first >= 0x30 && first <= 0x39) || escaped) indexLike = true; // a digit, maybe escaped
        if (glue && !isJsonString(text, i, j, escaped)) glue = false;
      }
      i = j;
      last = j + 1;
      continue;
    }
    if (depth === 2 && inFlags && (c === 0x2c || c === 0x7d || c === 0x5d)) {
      // a member of "flags" ends here
      if (start >= 0 && members !== undefined) {
        // a backslash or `$ref` in the value: backslashes occur in valid JSON in strings only, and
        // the backslash cursor may have moved past one in an earlier string of the value
        if (ref < start) ref = indexOr(text, '$ref', start, n);
        if (cursor.escapedAt >= start || ref < last)
          (escapedFlags ??= new Set()).add(members.length / 4);
        members.push(keyOpen, keyClose, start, last);
        start = -1;
      }
      if (c !== 0x2c) {
        awaitValue = false;
        inFlags = false;
        flagsClose = i;
      } else if (flagsObject) expectKey = afterComma = true;
      else {
        keyClose++;
        awaitValue = true;
      }
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) max = depth;
      if (depth === 1) rootKey = rootObject = c === 0x7b;
      else if (depth === 3) {
        // inside a flag (or any value two levels down) only strings and nesting matter
        cursor.max = max;
        cursor.backslash = backslash;
        i = skipNested(text, i + 1, n, cursor);
        max = cursor.max;
        backslash = cursor.backslash;
        if (i < n) depth = 2;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    else if (c === 0x3a /* : */) {
      if (depth === 1) rootValue = true;
      else if (depth === 2 && inFlags && flagsObject) {
        awaitValue = true;
        expectColon = false;
      }
    } else if (c === 0x2c /* , */ && depth === 1) rootKey = rootObject;
    last = i + 1;
  }
  return {
    depth: max,
    flags:
      members === undefined
        ? undefined
        : new FlagTexts(text, members, escapedFlags, flagsObject, indexLike, {
            open: flagsOpen,
            close: flagsClose,
            checked: glue && flagsClose > flagsOpen,
          }),
  };
}

/**
 * The text of each flag of a configuration that `JSON.parse` accepted: by key for the map form, by
 * index for the array form; `undefined` when the document has no `flags` object or array. A key
 * given twice keeps its last value, as `JSON.parse` does. @internal
 */
export function flagTexts(text: string): Map<string | number, string> | undefined {
  const found = scanConfigurationJson(text).flags;
  if (found === undefined) return undefined;
  const texts = new Map<string | number, string>();
  for (let m = 0; m < found.count; m++) texts.set(found.key(m), found.text(m));
  return texts;
}
