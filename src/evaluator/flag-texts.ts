/**
 * Where each flag's definition sits in a configuration's JSON text: the evaluator keeps a flag's
 * text as a slice of the document it already holds (V8 shares the characters) rather than a copy
 * written again by `JSON.stringify`.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The index just past the string starting at `start` (a `"`). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    i += c === BACKSLASH ? 2 : 1;
  }
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** The index just past the JSON value starting at `start` (not whitespace). */
function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first !== 0x7b && first !== 0x5b) {
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (
        c === 0x2c ||
        c === 0x7d ||
        c === 0x5d ||
        c === 0x20 ||
        c === 0x0a ||
        c === 0x0d ||
        c === 0x09 ||
        Number.isNaN(c)
      )
        return i;
      i++;
    }
  }
  let depth = 0;
  for (let i = start; ; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i) - 1;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
  }
}

function keyAt(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1);
  return raw.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : raw;
}

/**
 * Each member of the object or element of the array starting at `start`, with its text. `visit`
 * gets the member's key (an element's index) and where its value starts and ends.
 */
function members(
  text: string,
  start: number,
  visit: (key: string | number, from: number, to: number) => void,
): void {
  const isObject = text.charCodeAt(start) === 0x7b;
  let i = skipSpace(text, start + 1);
  for (let index = 0; text.charCodeAt(i) !== (isObject ? 0x7d : 0x5d); index++) {
    let key: string | number = index;
    if (isObject) {
      const keyEnd = stringEnd(text, i);
      key = keyAt(text, i, keyEnd);
      i = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the colon
    }
    const end = valueEnd(text, i);
    visit(key, i, end);
    i = skipSpace(text, end);
    if (text.charCodeAt(i) === 0x2c) i = skipSpace(text, i + 1);
  }
}

/**
 * The text of each flag of a configuration that `JSON.parse` accepted: by key for the map form, by
 * index for the array form; `undefined` when the document has no `flags` object or array. A key
 * given twice keeps its last value, as `JSON.parse` does. @internal
 */
export function flagTexts(text: string): Map<string | number, string> | undefined {
  const start = skipSpace(text, 0);
  if (text.charCodeAt(start) !== 0x7b) return undefined;
  let flags: [number, number] | undefined;
  members(text, start, (key, from, to) => {
    if (key === 'flags') flags = [from, to];
  });
  if (flags === undefined) return undefined;
  const [from] = flags;
  const open = text.charCodeAt(from);
  if (open !== 0x7b && open !== 0x5b) return undefined;
  const texts = new Map<string | number, string>();
  members(text, from, (key, begin, end) => texts.set(key, text.slice(begin, end)));
  return texts;
}
