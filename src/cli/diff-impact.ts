import type { Evaluator } from '../evaluator/index.js';
import type { CliIo } from './io.js';
import { forEachSubject } from './subject-loop.js';
import type { SubjectSet } from './subjects.js';
import { variantLabel } from './variant-label.js';

/** A flag evaluated on both sides: `before` under the old configuration, `after` under the new. */
export interface FlagPair {
  readonly before: string;
  readonly after: string;
}

/** What the same subjects got from one flag pair, before and after. */
export interface SampleOutcome {
  readonly subjects: number;
  /** Subjects per `from → to` pair of variant labels, stays (`from === to`) included. */
  readonly pairs: readonly {
    readonly from: string;
    readonly to: string;
    readonly subjects: number;
  }[];
  /** Subjects per variant label before. */
  readonly before: ReadonlyMap<string, number>;
}

const SEP = '\u0000';

/**
 * Evaluates every subject against each pair's flag in both configurations and counts who gets what
 * before and after. Resolves `undefined` when `io.signal` stopped it.
 */
export async function sampleOutcomes(
  pairs: readonly FlagPair[],
  before: Evaluator,
  after: Evaluator,
  subjects: SubjectSet,
  io: CliIo,
): Promise<SampleOutcome[] | undefined> {
  const tallies = pairs.map(() => new Map<string, number>());
  const finished = await forEachSubject(
    subjects,
    io,
    'diff',
    (context) => {
      pairs.forEach((pair, i) => {
        const from = variantLabel(before.resolveValue(pair.before, context));
        const to = variantLabel(after.resolveValue(pair.after, context));
        const key = `${from}${SEP}${to}`;
        const tally = tallies[i] as Map<string, number>;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      });
    },
    Math.max(1, pairs.length * 2),
  );
  if (!finished) return undefined;
  return tallies.map((tally) => {
    const counted = [...tally].map(([key, n]) => {
      const [from, to] = key.split(SEP) as [string, string];
      return { from, to, subjects: n };
    });
    const byBefore = new Map<string, number>();
    for (const { from, subjects: n } of counted) byBefore.set(from, (byBefore.get(from) ?? 0) + n);
    return {
      subjects: subjects.count,
      pairs: counted.sort((a, b) => b.subjects - a.subjects),
      before: byBefore,
    };
  });
}
