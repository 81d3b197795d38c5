import { isObject } from '../evaluator/json-path.js';

/**
 * Targeting rules as people read them: `ring in ["internal", "beta"]`, `version >= 2.0.0 (semver)`,
 * `fractional by targetingKey: on 10 %, off 90 %`. Pure.
 */

const INFIX = new Set(['==', '===', '!=', '!==', '<', '<=', '>', '>=', '+', '-', '*', '/', '%']);

/** A share as a percentage for people: `10 %`, `33.33 %`, `0.01 %`. */
export function percentText(share: number): string {
  return `${(share * 100).toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;
}

function literal(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** The `fractional` buckets as `on 10 %, off 90 %`, when they are literal; else undefined. */
export function bucketText(buckets: readonly unknown[]): string | undefined {
  const rows: [string, number][] = [];
  for (const bucket of buckets) {
    if (!Array.isArray(bucket) || bucket.length === 0) return undefined;
    const weight: unknown = bucket.length > 1 && bucket[1] !== null ? bucket[1] : 1;
    if (typeof bucket[0] !== 'string' || typeof weight !== 'number') return undefined;
    rows.push([bucket[0], Math.max(0, weight)]);
  }
  const total = rows.reduce((sum, [, w]) => sum + w, 0);
  if (total === 0) return 'every weight 0';
  return rows.map(([variant, w]) => `${variant} ${percentText(w / total)}`).join(', ');
}

function operand(node: unknown, depth: number): string {
  const text = describe(node, depth);
  const op = isObject(node) ? Object.keys(node)[0] : undefined;
  return op === 'and' || op === 'or' || op === 'if' ? `(${text})` : text;
}

function describe(node: unknown, depth: number): string {
  if (depth > 12) return '…';
  if (!isObject(node) || Object.keys(node).length !== 1) {
    if (Array.isArray(node)) return `[${node.map((n) => describe(n, depth + 1)).join(', ')}]`;
    return literal(node);
  }
  const name = Object.keys(node)[0] as string;
  const raw = node[name];
  const args = Array.isArray(raw) ? raw : [raw];
  const d = (n: unknown) => operand(n, depth + 1);
  switch (name) {
    case 'var':
      return typeof args[0] === 'string' && args[0] !== '' ? args[0] : 'the context';
    case 'in':
      return `${d(args[0])} in ${d(args[1])}`;
    case 'and':
    case 'or':
      return args.map(d).join(` ${name} `);
    case '!':
      return `not ${d(args[0])}`;
    case '!!':
      return `${d(args[0])} is set`;
    case 'starts_with':
    case 'ends_with':
      return `${d(args[0])} ${name.replace('_', ' ')} ${d(args[1])}`;
    case 'sem_ver':
      return `${d(args[0])} ${typeof args[1] === 'string' ? args[1] : '?'} ${d(args[2])} (semver)`;
    case 'if':
    case '?:':
      return args
        .map((arg, i) =>
          i % 2 === 0 && i < args.length - 1
            ? `if ${d(arg)}`
            : i % 2 === 1
              ? `then ${d(arg)}`
              : `else ${d(arg)}`,
        )
        .join(' ');
    case 'fractional':
    case 'fractionalEvaluation': {
      const keyed = args.length > 0 && !Array.isArray(args[0]);
      const key = keyed ? d(args[0]) : 'targetingKey';
      const buckets = bucketText(args.slice(keyed ? 1 : 0));
      return `fractional by ${key}${buckets === undefined ? '' : `: ${buckets}`}`;
    }
    case '$ref':
      return `$ref ${literal(args[0])}`;
    default:
      if (INFIX.has(name) && args.length === 2) return `${d(args[0])} ${name} ${d(args[1])}`;
      if ((name === '<' || name === '<=') && args.length === 3)
        return `${d(args[0])} ${name} ${d(args[1])} ${name} ${d(args[2])}`;
      return `${name}(${args.map(d).join(', ')})`;
  }
}

/** A rule as one line of text, cut at `max` characters. */
export function ruleText(rule: unknown, max = 100): string {
  const text = describe(rule, 0);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
