import { isObject } from '../evaluator/json-path.js';
import { canonicalJson } from './canonical-json.js';
import { fractionalsIn, mapFractionals, type FractionalNode } from './fractionals.js';

type Json = Record<string, unknown>;

/** What part of a flag changed. */
export type Aspect = 'state' | 'variants' | 'default' | 'targeting' | 'metadata';

/** A flag in both configurations that differs, and how. */
export interface FlagChange {
  readonly flag: string;
  readonly aspects: readonly Aspect[];
  /** One line per difference, e.g. `defaultVariant off → on`. */
  readonly details: readonly string[];
}

/** The flags added, removed and changed from one configuration to another, each sorted by key. */
export interface FlagsDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly FlagChange[];
}

/** Details listed per aspect before "… and n more". */
const MAX_DETAILS = 8;

const short = (value: unknown): string => {
  const text = canonicalJson(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

/** A share as people write it: `25 %`, `0.8 %`, `33.33 %`. */
export const shareText = (share: number): string => `${Number((share * 100).toFixed(2))} %`;

/** The default variant, with the forms flagd reads as none (absent, null, "") as `undefined`. */
export function defaultOf(flag: Json): string | undefined {
  const value = flag['defaultVariant'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The targeting, with the forms that mean none (absent, null, {}) as `undefined`. */
export function targetingOf(flag: Json): unknown {
  const value = flag['targeting'];
  if (value === undefined || value === null) return undefined;
  return isObject(value) && Object.keys(value).length === 0 ? undefined : value;
}

const objectOf = (value: unknown): Json => (isObject(value) ? value : {});

/** Differences between two objects' entries, key by key: added, removed, changed. */
function entryChanges(label: string, before: Json, after: Json): string[] {
  const lines: string[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const key of keys) {
    const has = [Object.hasOwn(before, key), Object.hasOwn(after, key)];
    if (!has[1]) lines.push(`${label} '${key}' removed`);
    else if (!has[0]) lines.push(`${label} '${key}' added: ${short(after[key])}`);
    else if (canonicalJson(before[key]) !== canonicalJson(after[key]))
      lines.push(`${label} '${key}' ${short(before[key])} → ${short(after[key])}`);
  }
  return lines.length > MAX_DETAILS
    ? [...lines.slice(0, MAX_DETAILS), `… and ${lines.length - MAX_DETAILS} more ${label} changes`]
    : lines;
}

/**
 * The fractionals of two versions of a flag taken to be the same split: the same JSON path, or,
 * when one is left on each side, those two.
 */
export function pairFractionals(
  before: readonly FractionalNode[],
  after: readonly FractionalNode[],
): [FractionalNode, FractionalNode][] {
  const pairs: [FractionalNode, FractionalNode][] = [];
  const rest = new Map(after.map((node) => [node.path, node]));
  const unpaired: FractionalNode[] = [];
  for (const node of before) {
    const match = rest.get(node.path);
    if (match === undefined) unpaired.push(node);
    else {
      pairs.push([node, match]);
      rest.delete(node.path);
    }
  }
  const [left] = unpaired;
  const [right] = rest.values();
  if (unpaired.length === 1 && rest.size === 1 && left !== undefined && right !== undefined)
    pairs.push([left, right]);
  return pairs;
}

/** Each variant's share of a literal split, in bucket order: `on 10 %, off 90 %`. */
function weightsText(node: FractionalNode): string {
  const buckets = node.buckets ?? [];
  const total = buckets.reduce((sum, b) => sum + b.weight, 0);
  return buckets
    .map((b) => `${b.variant} ${shareText(total === 0 ? 0 : b.weight / total)}`)
    .join(', ');
}

/** How the targeting changed: each split's key and weights, and whether the rest of it did. */
function targetingChanges(before: unknown, after: unknown): string[] {
  if (before === undefined) return ['targeting added'];
  if (after === undefined) return ['targeting removed'];
  const lines: string[] = [];
  const placeholder = (): string => 'fractional';
  const rules = [mapFractionals(before, placeholder), mapFractionals(after, placeholder)];
  if (canonicalJson(rules[0]) !== canonicalJson(rules[1])) lines.push('targeting rules changed');
  for (const [a, b] of pairFractionals(fractionalsIn(before), fractionalsIn(after))) {
    if (a.keyText !== b.keyText) lines.push(`${b.path}: bucketing key ${a.keyText} → ${b.keyText}`);
    if (a.buckets === undefined || b.buckets === undefined) continue; // rules compute them
    const [was, now] = [weightsText(a), weightsText(b)];
    if (was !== now) lines.push(`${b.path}: ${was} → ${now}`);
    else if (canonicalJson(a.buckets) !== canonicalJson(b.buckets))
      lines.push(`${b.path}: weights rewritten, same shares (${now})`);
  }
  return lines.length === 0 ? ['targeting changed'] : lines;
}

/** How one flag changed between two configurations; `undefined` when it did not. */
export function flagChange(flag: string, before: Json, after: Json): FlagChange | undefined {
  const aspects: Aspect[] = [];
  const details: string[] = [];
  if (before['state'] !== after['state']) {
    aspects.push('state');
    details.push(`state ${String(before['state'])} → ${String(after['state'])}`);
  }
  const variants = entryChanges(
    'variant',
    objectOf(before['variants']),
    objectOf(after['variants']),
  );
  if (variants.length > 0) aspects.push('variants');
  details.push(...variants);
  const [was, now] = [defaultOf(before), defaultOf(after)];
  if (was !== now) {
    aspects.push('default');
    details.push(`defaultVariant ${was ?? '(none)'} → ${now ?? '(none)'}`);
  }
  const targeting = [targetingOf(before), targetingOf(after)];
  if (canonicalJson(targeting[0]) !== canonicalJson(targeting[1])) {
    aspects.push('targeting');
    details.push(...targetingChanges(targeting[0], targeting[1]));
  }
  const metadata = entryChanges(
    'metadata',
    objectOf(before['metadata']),
    objectOf(after['metadata']),
  );
  if (metadata.length > 0) aspects.push('metadata');
  details.push(...metadata);
  return aspects.length === 0 ? undefined : { flag, aspects, details };
}

/** The flags added, removed and changed from `before` to `after`. */
export function diffFlags(
  before: ReadonlyMap<string, Json>,
  after: ReadonlyMap<string, Json>,
): FlagsDiff {
  const added = [...after.keys()].filter((key) => !before.has(key)).sort();
  const removed = [...before.keys()].filter((key) => !after.has(key)).sort();
  const changed: FlagChange[] = [];
  for (const key of [...before.keys()].sort()) {
    const next = after.get(key);
    const change = next === undefined ? undefined : flagChange(key, before.get(key) as Json, next);
    if (change !== undefined) changed.push(change);
  }
  return { added, removed, changed };
}
