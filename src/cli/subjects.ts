import { readFile, stat } from 'node:fs/promises';
import { isObject } from '../evaluator/json-path.js';
import { seededRandom } from '../stats/index.js';

type Json = Record<string, unknown>;

/** The subjects a command evaluates: generated ones, or the contexts of a file. */
export interface SubjectSet {
  readonly count: number;
  /** For people, e.g. `10,000 generated subjects (targetingKey subject-0 … subject-9999)`. */
  readonly description: string;
  /** For `--json`. */
  readonly summary: {
    readonly source: 'generated' | 'file';
    readonly count: number;
    readonly targetingKeys?: string;
    readonly seed?: number;
    readonly file?: string;
  };
  /** The evaluation contexts, in order. */
  contexts(): Iterable<Json>;
}

/** The most subjects generated or read. */
export const MAX_SUBJECTS = 10_000_000;
/** The largest subjects file read, in bytes. */
export const MAX_SUBJECTS_FILE_BYTES = 512 * 1024 * 1024;

/** A problem with the subjects (a bad line of a file, a file too big); the message names where. */
export class SubjectsError extends Error {
  override readonly name = 'SubjectsError';
}

const count = (n: number) => n.toLocaleString('en-US');

/** A seeded random id: `u-` and 13 hex digits (52 bits from two draws). */
function randomId(random: () => number): string {
  const high = Math.floor(random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  const low = Math.floor(random() * 0x10000000)
    .toString(16)
    .padStart(7, '0');
  return `u-${high}${low}`;
}

/**
 * `n` generated subjects, each the `base` context with its own targetingKey: `subject-0` …
 * `subject-<n-1>`, or, with a `seed`, random ids (`u-…`) drawn from it.
 */
export function generatedSubjects(n: number, base: Json = {}, seed?: number): SubjectSet {
  const keys =
    seed === undefined
      ? n === 1
        ? 'subject-0'
        : `subject-0 … subject-${n - 1}`
      : `seeded random ids (u-…, seed ${seed})`;
  return {
    count: n,
    description: `${count(n)} generated subjects (targetingKey ${keys})`,
    summary: {
      source: 'generated',
      count: n,
      targetingKeys: seed === undefined ? 'subject-<i>' : 'seeded-random',
      ...(seed === undefined ? {} : { seed }),
    },
    *contexts() {
      const random = seed === undefined ? undefined : seededRandom(seed);
      for (let i = 0; i < n; i++) {
        const targetingKey = random === undefined ? `subject-${i}` : randomId(random);
        yield { ...base, targetingKey };
      }
    },
  };
}

/**
 * The contexts of a JSON Lines text, one object per line (blank lines skipped), each over the
 * `base` context. Throws a {@link SubjectsError} naming the line (`file:12`) of a bad one.
 */
export function parseSubjects(text: string, name: string, base: Json = {}): SubjectSet {
  const contexts: Json[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new SubjectsError(`${name}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    if (!isObject(value))
      throw new SubjectsError(
        `${name}:${i + 1}: a context must be a JSON object, not ${line.slice(0, 40)}`,
      );
    if (contexts.length === MAX_SUBJECTS)
      throw new SubjectsError(`${name}: more than ${count(MAX_SUBJECTS)} subjects`);
    contexts.push({ ...base, ...value });
  }
  if (contexts.length === 0)
    throw new SubjectsError(`${name}: no subjects (one JSON context per line)`);
  return {
    count: contexts.length,
    description: `the ${count(contexts.length)} subjects in ${name}`,
    summary: { source: 'file', count: contexts.length, file: name },
    contexts: () => contexts,
  };
}

/** Reads a subjects file (see {@link parseSubjects}). */
export async function readSubjects(file: string, base: Json = {}): Promise<SubjectSet> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_SUBJECTS_FILE_BYTES)
      throw new SubjectsError(
        `${file}: ${count(size)} bytes, over the limit of ${count(MAX_SUBJECTS_FILE_BYTES)}`,
      );
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as Error).name === 'SubjectsError') throw error;
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SubjectsError(`cannot read ${file}: ${code}`);
  }
  return parseSubjects(text, file, base);
}
