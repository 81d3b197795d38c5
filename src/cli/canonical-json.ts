import { isObject } from '../evaluator/json-path.js';

/**
 * JSON text with every object's keys sorted, so two values that mean the same compare equal as
 * text whatever order their keys were written in. Depth-limited: below `maxDepth` levels the
 * value is written as it is (configurations were already held to the evaluator's depth limit).
 */
export function canonicalJson(value: unknown, maxDepth = 256): string {
  if (maxDepth <= 0 || (typeof value !== 'object' && value !== undefined)) {
    return JSON.stringify(value) ?? 'null';
  }
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => canonicalJson(item, maxDepth - 1)).join(',')}]`;
  }
  if (!isObject(value)) return JSON.stringify(value) ?? 'null';
  const keys = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort();
  const body = keys.map(
    (key) => `${JSON.stringify(key)}:${canonicalJson(value[key], maxDepth - 1)}`,
  );
  return `{${body.join(',')}}`;
}
