/**
 * The `yaml` package composes a document recursively: text nested some hundreds of levels deep
 * (`[[[[…`, `- - - - …`, or indentation) overflows the stack inside it, and some such texts exhaust
 * the memory while it formats the error. So YAML is measured first, without parsing it.
 */

/** Where a quoted scalar or a comment may start: at the start of a line or after these. */
const SEPARATORS = new Set([' ', '\t', '[', '{', ',', ':', '-', '?']);

/** One line's scan state carried to the next: flow depth and an open quoted scalar. */
interface Scan {
  flow: number;
  quote: '' | '"' | "'";
  max: number;
}

/**
 * An upper bound of the nesting depth of YAML text: the open block indentation levels, the compact
 * indicators that open a level on the same line (`- - x`, `? x`), and flow brackets outside quoted
 * scalars and comments. It may count a level or two more than the document has (block scalars
 * holding brackets, a `- ` before a mapping), never fewer. @internal
 */
export function yamlDepth(text: string): number {
  const scan: Scan = { flow: 0, quote: '', max: 0 };
  const indents: number[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let at = start;
    let block = indents.length;
    if (scan.flow === 0 && scan.quote === '') {
      while (at < end && text[at] === ' ') at++;
      const first = text[at];
      if (at < end && first !== '#' && first !== '\r') {
        const indent = at - start;
        while (indents.length > 0 && (indents[indents.length - 1] as number) >= indent)
          indents.pop();
        indents.push(indent);
        block = indents.length;
        at = compactIndicators(text, at, end, (levels) => (block += levels));
      }
    }
    scanLine(text, at, end, block, scan);
    start = end + 1;
  }
  return scan.max;
}

/** Skips `- ` and `? ` indicators at `at`, reporting how many levels they open. */
function compactIndicators(text: string, at: number, end: number, open: (n: number) => void) {
  let levels = 0;
  let i = at;
  while (i < end && (text[i] === '-' || text[i] === '?')) {
    const after = text[i + 1];
    if (i + 1 < end && after !== ' ' && after !== '\t' && after !== '\r') break;
    levels++;
    i++;
    while (i < end && (text[i] === ' ' || text[i] === '\t')) i++;
  }
  open(levels);
  return i;
}

/** Scans one line from `at` for flow brackets, quoted scalars and a comment. */
function scanLine(text: string, at: number, end: number, block: number, scan: Scan): void {
  if (block + scan.flow > scan.max) scan.max = block + scan.flow;
  for (let i = at; i < end; i++) {
    const c = text[i] as string;
    if (scan.quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') scan.quote = '';
    } else if (scan.quote === "'") {
      if (c === "'" && text[i + 1] === "'") i++;
      else if (c === "'") scan.quote = '';
    } else {
      const boundary = i === at || SEPARATORS.has(text[i - 1] as string);
      if ((c === '"' || c === "'") && boundary) scan.quote = c;
      else if (c === '#' && boundary) return;
      else if (c === '[' || c === '{') {
        if (block + ++scan.flow > scan.max) scan.max = block + scan.flow;
      } else if ((c === ']' || c === '}') && scan.flow > 0) scan.flow--;
    }
  }
}
