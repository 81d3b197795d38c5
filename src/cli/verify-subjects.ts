import { readFile } from 'node:fs/promises';
import type { EvaluationContext } from '@openfeature/core';
import { isObject } from '../evaluator/json-path.js';

/** One subject evaluated on every replica: its context, and how the report names it. */
export interface Subject {
  readonly label: string;
  readonly context: EvaluationContext;
}

/** At most this many subjects, generated or read. */
export const MAX_SUBJECTS = 1_000_000;

/** How a report names a subject: its targeting key, else its context in JSON (cut short). */
function labelOf(context: EvaluationContext): string {
  const key = context.targetingKey;
  if (typeof key === 'string' && key !== '') return key;
  const text = JSON.stringify(context);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * `n` generated subjects, `user-1` … `user-<n>` as their targeting key, each over `base` (the
 * `--context`): the same subjects every run, so a re-check after a change compares like with like.
 */
export function generatedSubjects(n: number, base: EvaluationContext): Subject[] {
  return Array.from({ length: n }, (_, i) => {
    const context = { ...base, targetingKey: `user-${i + 1}` };
    return { label: context.targetingKey, context };
  });
}

/**
 * The subjects of a JSON Lines file: one context (a JSON object) per line, each over `base`;
 * blank lines are skipped. Throws a RangeError naming the file and line of a bad one.
 */
export function parseSubjects(text: string, file: string, base: EvaluationContext): Subject[] {
  const subjects: Subject[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    if (subjects.length >= MAX_SUBJECTS)
      throw new RangeError(`${file}: more than ${MAX_SUBJECTS.toLocaleString('en-US')} subjects`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new RangeError(`${file}:${i + 1}: ${(error as Error).message}`);
    }
    if (!isObject(value)) throw new RangeError(`${file}:${i + 1}: a context is a JSON object`);
    const context = { ...base, ...value } as EvaluationContext;
    subjects.push({ label: labelOf(context), context });
  });
  if (subjects.length === 0) throw new RangeError(`${file} holds no context`);
  return subjects;
}

/** The subjects of `--subjects-file`; throws a RangeError naming the file. */
export async function readSubjects(file: string, base: EvaluationContext): Promise<Subject[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RangeError(`--subjects-file: cannot read ${file}: ${code}`);
  }
  return parseSubjects(text, file, base);
}
