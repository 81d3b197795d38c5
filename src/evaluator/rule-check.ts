import type { Operator } from './rule.js';
import { isObject } from './json-path.js';

/**
 * Whether compiling a rule is certain to succeed without a warning, judged without compiling it:
 * every node a compilation could visit (a superset: all arguments of every operator) is within
 * `maxDepth`, every one-key object names a known operator, and no operator says its compile step
 * may warn or fail for its arguments ({@link Operator.mayWarn}). Such a rule can be compiled when
 * first evaluated, since nothing about it would be reported at load. Recursion stops past
 * `maxDepth`. @internal
 */
export function compilesQuietly(
  node: unknown,
  operators: ReadonlyMap<string, Operator>,
  maxDepth: number,
): boolean {
  return quiet(node, operators, maxDepth, 0);
}

function quiet(
  node: unknown,
  operators: ReadonlyMap<string, Operator>,
  maxDepth: number,
  depth: number,
): boolean {
  // the same depth and data rules as Compilation.compile
  if (depth > maxDepth) return false;
  if (Array.isArray(node)) {
    for (const item of node) if (!quiet(item, operators, maxDepth, depth + 1)) return false;
    return true;
  }
  if (!isObject(node)) return true;
  let name: string | undefined;
  for (const key in node) {
    if (name !== undefined) return true; // data, not an operation
    name = key;
  }
  if (name === undefined) return true;
  const operator = operators.get(name);
  if (operator === undefined) return false;
  const raw = node[name];
  const args = Array.isArray(raw) ? raw : [raw];
  if (operator.mayWarn !== undefined && operator.mayWarn(args)) return false;
  for (const arg of args) if (!quiet(arg, operators, maxDepth, depth + 1)) return false;
  return true;
}

/**
 * Whether `value` is plain data all through (no one-key object, which would be an operation):
 * what a compilation folds into a constant equal to it. @internal
 */
export function isPlainData(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(isPlainData);
  if (!isObject(value)) return true;
  let keys = 0;
  for (const key in value) if (key !== undefined) keys++;
  return keys !== 1;
}
