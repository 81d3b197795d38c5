import { ExperimentSourceError } from './errors.js';
import { experimentFromJson } from './counts-json.js';
import type { ExperimentData, MetricData, MetricKind, VariantCounts } from './types.js';

/** The largest counts file read (10 MiB). */
export const MAX_COUNTS_FILE_BYTES = 10 * 1024 * 1024;
/** The most rows a CSV counts file may have. */
export const MAX_COUNTS_ROWS = 10_000;

/** Options of {@link fromCountsFile}. */
export interface CountsFileOptions {
  /** The flag's key (a CSV names none; overrides the JSON's). Default for a CSV: `experiment`. */
  readonly flag?: string;
  /** The control variant (overrides the JSON's). Default for a CSV: the first variant listed. */
  readonly control?: string;
}

const REQUIRED = ['metric', 'variant', 'users', 'conversions'] as const;
const OPTIONAL = ['value_sum', 'value_sum_squares', 'kind'] as const;

/** The fields of one CSV line (RFC 4180 quoting: `"a, b"`, `""` for a quote); no line breaks inside. */
export function csvFields(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const end = line.indexOf('"', i);
        if (end < 0) return undefined;
        value += line.slice(i, end);
        i = end + 1;
        if (line[i] !== '"') break;
        value += '"';
        i++;
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',') return undefined;
    } else {
      const end = line.indexOf(',', i);
      fields.push((end < 0 ? line.slice(i) : line.slice(i, end)).trim());
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** A decimal number, as a person writes one (`Number` would also take `0x10`, `0b11` and `0o7`). */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

function number(text: string | undefined, where: string, field: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value))
    throw new ExperimentSourceError(`${where}, field ${field}: "${text}" is not a number`);
  return value;
}

function countField(text: string | undefined, where: string, field: string): number {
  const value = number(text, where, field);
  if (value === undefined || value < 0 || !Number.isInteger(value))
    throw new ExperimentSourceError(
      `${where}, field ${field}: ${value === undefined ? 'missing' : `"${text}"`} is not a count (a whole number ≥ 0)`,
    );
  return value;
}

function header(line: string): Map<string, number> {
  const names = (csvFields(line) ?? []).map((f) => f.toLowerCase());
  const columns = new Map(names.map((n, i) => [n, i]));
  const missing = REQUIRED.filter((n) => !columns.has(n));
  if (missing.length > 0)
    throw new ExperimentSourceError(
      `line 1: the header needs ${REQUIRED.join(',')} (optional: ${OPTIONAL.join(', ')}); missing ${missing.join(', ')}`,
    );
  return columns;
}

interface Row {
  readonly metric: string;
  readonly kind: MetricKind;
  readonly counts: VariantCounts;
}

function row(fields: string[], columns: Map<string, number>, where: string): Row {
  const get = (name: string) => {
    const i = columns.get(name);
    return i === undefined ? undefined : fields[i];
  };
  const metric = get('metric') ?? '';
  const variant = get('variant') ?? '';
  if (metric === '') throw new ExperimentSourceError(`${where}, field metric: empty`);
  if (variant === '') throw new ExperimentSourceError(`${where}, field variant: empty`);
  const valueSum = number(get('value_sum'), where, 'value_sum');
  const valueSumSquares = number(get('value_sum_squares'), where, 'value_sum_squares');
  const kindText = get('kind') || (valueSum === undefined ? 'conversion' : 'mean');
  if (kindText !== 'conversion' && kindText !== 'mean')
    throw new ExperimentSourceError(
      `${where}, field kind: "${kindText}" is not conversion or mean`,
    );
  if (kindText === 'mean' && (valueSum === undefined || valueSumSquares === undefined))
    throw new ExperimentSourceError(
      `${where}: a mean metric needs value_sum and value_sum_squares`,
    );
  return {
    metric,
    kind: kindText,
    counts: {
      variant,
      users: countField(get('users'), where, 'users'),
      conversions: countField(get('conversions'), where, 'conversions'),
      ...(valueSum === undefined ? {} : { valueSum }),
      ...(valueSumSquares === undefined ? {} : { valueSumSquares }),
    },
  };
}

/**
 * Reads `metric,variant,users,conversions[,value_sum,value_sum_squares][,kind]` (a header line,
 * then one row per metric and variant). A metric is a mean (value per user) when it has
 * value_sum, else a conversion, unless `kind` says. A bad row is named by its line and field.
 */
export function fromCsv(text: string, options: CountsFileOptions = {}): ExperimentData {
  const lines = text.split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new ExperimentSourceError('the counts file is empty');
  const columns = header(lines[first] as string);
  const metrics = new Map<
    string,
    { metric: string; kind: MetricKind; variants: VariantCounts[] }
  >();
  let rows = 0;
  for (let n = first + 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const where = `line ${n + 1}`;
    if (++rows > MAX_COUNTS_ROWS)
      throw new ExperimentSourceError(`${where}: more than ${MAX_COUNTS_ROWS} rows`);
    const fields = csvFields(line);
    if (fields === undefined) throw new ExperimentSourceError(`${where}: unbalanced quotes`);
    const r = row(fields, columns, where);
    const id = `${r.metric}\u0000${r.kind}`;
    const metric = metrics.get(id) ?? { metric: r.metric, kind: r.kind, variants: [] };
    if (metric.variants.some((v) => v.variant === r.counts.variant))
      throw new ExperimentSourceError(
        `${where}: metric "${r.metric}", variant "${r.counts.variant}" is given twice`,
      );
    metric.variants.push(r.counts);
    metrics.set(id, metric);
  }
  const all: MetricData[] = [...metrics.values()];
  const control = options.control ?? all[0]?.variants[0]?.variant;
  if (control === undefined) throw new ExperimentSourceError('the counts file has no rows');
  return { flag: options.flag ?? 'experiment', control, metrics: all };
}

/**
 * Reads a counts file: JSON of {@link ExperimentData} (when it starts with `{`), else CSV (see
 * {@link fromCsv}). Throws an {@link ExperimentSourceError} naming the line and field (CSV) or
 * the JSON path and line (JSON) of the first bad entry.
 *
 * @example
 * const data = fromCountsFile(readFileSync('counts.csv', 'utf8'), { control: 'off' });
 */
export function fromCountsFile(text: string, options: CountsFileOptions = {}): ExperimentData {
  if (text.length > MAX_COUNTS_FILE_BYTES)
    throw new ExperimentSourceError(
      `the counts file is larger than ${MAX_COUNTS_FILE_BYTES / 1024 / 1024} MiB`,
    );
  const body = text.replace(/^\uFEFF/, '');
  return body.trimStart().startsWith('{')
    ? experimentFromJson(body, options)
    : fromCsv(body, options);
}
