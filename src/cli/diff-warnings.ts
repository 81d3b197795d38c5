import type { SampleOutcome } from './diff-impact.js';
import type { RebucketCause, RebucketKind, RenameCandidate } from './rebucketing.js';
import { count, percent } from './share-format.js';

/** A change that takes a treatment from subjects who had it, for people and for programs. */
export interface RebucketWarning {
  /** The flag (`old → new` for a rename). */
  readonly flag: string;
  readonly kind: RebucketKind;
  /** The `fractional` concerned. */
  readonly path: string;
  /** The whole warning, without the `WARNING` prefix. */
  readonly message: string;
  /** The share of all subjects who lose a treatment (exact, or of the sample). */
  readonly lostShare: number;
  /** Of those who had a treatment, the share who lose it. */
  readonly lostOfTreated: number | null;
  /** `true`: from the bucket ranges; `false`: estimated from the subjects evaluated. */
  readonly exact: boolean;
}

const quoted = (variants: readonly string[]): string => variants.map((v) => `'${v}'`).join(', ');

/** What the sample says about subjects who had one of `variants` and then got something else. */
export function sampledLoss(
  outcome: SampleOutcome,
  variants: readonly string[],
): { had: number; lost: number } {
  const treated = new Set(variants);
  let had = 0;
  let lost = 0;
  for (const pair of outcome.pairs) {
    if (!treated.has(pair.from)) continue;
    had += pair.subjects;
    if (pair.to !== pair.from) lost += pair.subjects;
  }
  return { had, lost };
}

/** `2,489 of the 5,012 subjects who had 'on' (49.66 %) lose it (estimated from 10,000 subjects)`. */
function sampledText(
  outcome: SampleOutcome,
  variants: readonly string[],
  had: number,
  lost: number,
) {
  const sample = `estimated from ${count(outcome.subjects)} subjects`;
  if (had === 0)
    return `no subject evaluated had ${quoted(variants)}, so how many lose it is unknown (${sample})`;
  return `${count(lost)} of the ${count(had)} subjects who had ${quoted(variants)} (${percent(lost / had)}) lose it (${sample})`;
}

/**
 * The warning for one cause of re-bucketing, with its impact: exact from the bucket ranges when the
 * hashes stay, else from the sample. `undefined` when the sample shows that nobody who had a
 * treatment lost it (a key rewritten to one that hashes the same).
 */
export function causeWarning(
  flag: string,
  cause: RebucketCause,
  outcome: SampleOutcome,
  hadShare: number | undefined,
): RebucketWarning | undefined {
  const where = `at ${cause.path}`;
  if (cause.exactLoss !== undefined) {
    const of = cause.whole ? 'of subjects' : `of the subjects ${cause.path} splits`;
    const ofTreated = hadShare === undefined || hadShare === 0 ? null : cause.exactLoss / hadShare;
    const part = ofTreated === null ? '' : `, ${percent(ofTreated)} of those who had it`;
    return {
      flag,
      kind: cause.kind,
      path: cause.path,
      message: `${flag}: ${cause.detail} ${where}: ${percent(cause.exactLoss)} ${of} lose ${quoted(cause.variants)}${part} (exact)`,
      lostShare: cause.exactLoss,
      lostOfTreated: ofTreated,
      exact: true,
    };
  }
  const { had, lost } = sampledLoss(outcome, cause.variants);
  if (had > 0 && lost === 0) return undefined;
  return {
    flag,
    kind: cause.kind,
    path: cause.path,
    message: `${flag}: ${cause.detail} ${where}, so users are re-bucketed: ${sampledText(outcome, cause.variants, had, lost)}`,
    lostShare: outcome.subjects === 0 ? 0 : lost / outcome.subjects,
    lostOfTreated: had === 0 ? null : lost / had,
    exact: false,
  };
}

/**
 * The warning for a flag that looks renamed with implicit bucketing; `undefined` when the sample
 * shows everyone who had a treatment keeping it (the new flag hashes the old key explicitly).
 */
export function renameWarning(
  rename: RenameCandidate,
  treatments: readonly string[],
  outcome: SampleOutcome,
  implicit: boolean,
): RebucketWarning | undefined {
  const { had, lost } = sampledLoss(outcome, treatments);
  if (had > 0 && lost === 0) return undefined;
  const keep = implicit
    ? `give the new flag's fractional the old key explicitly: [{"cat": ["${rename.from}", {"var": "targetingKey"}]}, …buckets]`
    : `replace {"var": "$flagd.flagKey"} with "${rename.from}" in the new flag's bucketing key`;
  const flag = `${rename.from} → ${rename.to}`;
  return {
    flag,
    kind: 'renamed-flag',
    path: rename.path,
    message: `${flag}: looks like a renamed flag, and its split (${rename.path}) hashes the flag key, so users are re-bucketed: ${sampledText(outcome, treatments, had, lost)}. To keep everyone's bucket, ${keep}`,
    lostShare: outcome.subjects === 0 ? 0 : lost / outcome.subjects,
    lostOfTreated: had === 0 ? null : lost / had,
    exact: false,
  };
}
