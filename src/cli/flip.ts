import type { FractionalDecision } from '../evaluator/index.js';

/**
 * Where a subject flips variant as a rollout moves the weights. flagd puts a subject in bucket
 * `floor(hash * total / 2^32)` of a weight table; its position `p = hash / 2^32` does not depend
 * on the table. With the treatment's bucket first, it covers buckets `[0, w)`, which hold the
 * subject exactly when `floor(p * total) < w`, that is when the treatment's share `w / total` is
 * above `p`, whatever the total. With the treatment's bucket last it covers `[total - w, total)`:
 * the subject is in it exactly when the share is at least `1 - p`. Either way the threshold is
 * printed as the smallest share in hundredths of a percent that crosses it, so at that share the
 * subject has the treatment and at one hundredth of a percent less it does not, for any weight
 * table that can express both. Pure.
 */

/** Where and when one subject gets the treatment. */
export interface Flip {
  readonly treatment: string;
  /** The subject's place in [0, 1): `hash / 2^32`. */
  readonly position: number;
  /** Whether the treatment's bucket is first or last in the list; a middle one has no threshold. */
  readonly place: 'first' | 'last' | 'middle' | 'absent';
  /**
   * The smallest treatment share (a percentage in hundredths) at which the subject has the
   * treatment; undefined for `middle` and `absent`.
   */
  readonly thresholdPercent?: number;
  /** The treatment's share now, as a percentage. */
  readonly currentPercent: number;
  /** Whether the subject has the treatment now. */
  readonly has: boolean;
}

const TWO_32 = 4294967296;

/** The flip point of a subject's `fractional` decision for `treatment`. */
export function flipOf(decision: FractionalDecision, treatment: string): Flip {
  const { hash, buckets, totalWeight } = decision;
  const index = buckets.findIndex((b) => String(b.variant) === treatment);
  const weight = index === -1 ? 0 : (buckets[index]?.weight ?? 0);
  const base = {
    treatment,
    position: hash / TWO_32,
    currentPercent: (weight / totalWeight) * 100,
    has: String(decision.variant) === treatment,
  };
  if (index === -1) return { ...base, place: 'absent' };
  if (buckets.length === 1) return { ...base, place: 'first', thresholdPercent: 0.01 };
  // hash * 10,000 < 2^53 and dividing by 2^32 is exact: these are exact integer hundredths
  if (index === 0)
    return {
      ...base,
      place: 'first',
      thresholdPercent: (Math.floor((hash * 10_000) / TWO_32) + 1) / 100,
    };
  if (index === buckets.length - 1)
    return {
      ...base,
      place: 'last',
      thresholdPercent: Math.ceil(((TWO_32 - hash) * 10_000) / TWO_32) / 100,
    };
  return { ...base, place: 'middle' };
}

/**
 * The treatment of a decision: `preferred` when given; else, of the first and the last bucket, the
 * one that is not the safe variant (else not the flag's default variant); else the first.
 */
export function treatmentOf(
  decision: FractionalDecision,
  avoid: readonly (string | undefined)[],
  preferred?: string,
): string {
  if (preferred !== undefined) return preferred;
  const names = decision.buckets.map((b) => String(b.variant));
  const ends = [names[0], names.at(-1)].filter((n): n is string => n !== undefined);
  for (const unwanted of avoid) {
    if (unwanted === undefined) continue;
    const other = ends.find((n) => n !== unwanted);
    if (ends.includes(unwanted) && other !== undefined) return other;
  }
  return ends[0] ?? '';
}

const percent = (p: number) => `${p.toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;

/** "user-42 is in bucket 2,913 of 10,000: it gets 'on' once 'on' reaches 29.14 %". */
export function flipSentence(subject: string, decision: FractionalDecision, flip: Flip): string {
  const where = `${subject} is in bucket ${decision.bucket.toLocaleString('en-US')} of ${decision.totalWeight.toLocaleString('en-US')}`;
  const t = `'${flip.treatment}'`;
  if (flip.place === 'absent') return `${where}: ${t} is not in this fractional's buckets`;
  if (flip.thresholdPercent === undefined)
    return `${where}: ${t} is neither the first nor the last bucket, so when this subject gets it depends on how the other weights move`;
  const at = percent(flip.thresholdPercent);
  if (flip.has)
    return `${where}: it has ${t} (at ${percent(flip.currentPercent)}) and keeps it while ${t} stays at or above ${at}`;
  return `${where}: it gets ${t} once ${t} reaches ${at}`;
}
