import { findNodeAtLocation, parseTree, type ParseError } from 'jsonc-parser';
import type { CountsFileOptions } from './counts-file.js';
import { ExperimentSourceError } from './errors.js';
import type { ExperimentData, MetricData, SeriesPoint, VariantCounts } from './types.js';

type Segment = string | number;
type Json = Record<string, unknown>;

/** A problem at a JSON path; turned into `path (line n): message`. */
class ShapeError extends Error {
  constructor(
    readonly path: readonly Segment[],
    message: string,
  ) {
    super(message);
  }
}

const pathText = (path: readonly Segment[]) =>
  path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function object(value: unknown, path: Segment[]): Json {
  if (!isObject(value)) throw new ShapeError(path, 'must be an object');
  return value;
}

function array(value: unknown, path: Segment[]): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(path, 'must be an array');
  return value;
}

function string(value: unknown, path: Segment[]): string {
  if (typeof value !== 'string' || value === '')
    throw new ShapeError(path, 'must be a non-empty string');
  return value;
}

function num(value: unknown, path: Segment[], whole = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (whole && !(value >= 0 && Number.isInteger(value)))
  )
    throw new ShapeError(path, whole ? 'must be a count (a whole number ≥ 0)' : 'must be a number');
  return value;
}

function record(value: unknown, path: Segment[]): Record<string, number> {
  const o = object(value, path);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, num(v, [...path, k])]));
}

function variant(value: unknown, path: Segment[]): VariantCounts {
  const o = object(value, path);
  const optional = (key: string) =>
    o[key] === undefined ? {} : { [key]: num(o[key], [...path, key]) };
  return {
    variant: string(o['variant'], [...path, 'variant']),
    users: num(o['users'], [...path, 'users'], true),
    conversions: num(o['conversions'] ?? 0, [...path, 'conversions'], true),
    ...optional('valueSum'),
    ...optional('valueSumSquares'),
  };
}

function metric(value: unknown, path: Segment[]): MetricData {
  const o = object(value, path);
  const kind = o['kind'] ?? 'conversion';
  if (kind !== 'conversion' && kind !== 'mean')
    throw new ShapeError([...path, 'kind'], 'must be "conversion" or "mean"');
  const variants = array(o['variants'], [...path, 'variants']);
  return {
    metric: string(o['metric'], [...path, 'metric']),
    kind,
    variants: variants.map((v, i) => variant(v, [...path, 'variants', i])),
    ...(o['lowerIsBetter'] === true ? { lowerIsBetter: true } : {}),
  };
}

function metrics(value: unknown, path: Segment[]): MetricData[] {
  return array(value, path).map((m, i) => metric(m, [...path, i]));
}

function series(value: unknown, path: Segment[]): SeriesPoint[] {
  return array(value, path).map((p, i) => {
    const o = object(p, [...path, i]);
    return {
      time: string(o['time'], [...path, i, 'time']),
      metrics: metrics(o['metrics'], [...path, i, 'metrics']),
    };
  });
}

function experiment(doc: unknown, options: CountsFileOptions): ExperimentData {
  const o = object(doc, []);
  const flag = options.flag ?? string(o['flag'], ['flag']);
  const control = options.control ?? string(o['control'], ['control']);
  return {
    flag,
    control,
    metrics: metrics(o['metrics'], ['metrics']),
    ...(o['assignment'] === undefined
      ? {}
      : { assignment: record(o['assignment'], ['assignment']) }),
    ...(o['expectedShares'] === undefined
      ? {}
      : { expectedShares: record(o['expectedShares'], ['expectedShares']) }),
    ...(o['series'] === undefined ? {} : { series: series(o['series'], ['series']) }),
  };
}

/** The deepest nesting of arrays and objects read (a counts file nests 7 deep at most). */
const MAX_JSON_DEPTH = 32;

/** The offset where `text` nests deeper than {@link MAX_JSON_DEPTH}, or -1: checked before parsing, which recurses. */
function tooDeep(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return -1;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Reads a JSON counts file of {@link ExperimentData} (a missing `conversions` is 0; a missing
 * `kind` is `conversion`). Throws an {@link ExperimentSourceError} naming the JSON path and line
 * of the first bad entry.
 */
export function experimentFromJson(text: string, options: CountsFileOptions = {}): ExperimentData {
  const deep = tooDeep(text);
  if (deep >= 0)
    throw new ExperimentSourceError(
      `line ${lineAt(text, deep)}: nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  if (errors.length > 0 || tree === undefined)
    throw new ExperimentSourceError(`line ${lineAt(text, errors[0]?.offset ?? 0)}: not valid JSON`);
  try {
    return experiment(JSON.parse(text) as unknown, options);
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    const node = findNodeAtLocation(tree, [...error.path]);
    const line = node === undefined ? '' : ` (line ${lineAt(text, node.offset)})`;
    const where = error.path.length === 0 ? 'the document' : pathText(error.path);
    throw new ExperimentSourceError(`${where}${line}: ${error.message}`);
  }
}
