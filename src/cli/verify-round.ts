import { askerFor, type Asker, type AskOptions } from './verify-client.js';
import type { Replica } from './verify-replicas.js';
import type { Subject } from './verify-subjects.js';

/** One replica's answers in one check. */
export interface ReplicaRound {
  readonly replica: Replica;
  /** Each subject's outcome, in the subjects' order; undefined where it was not asked. */
  readonly outcomes: readonly (string | undefined)[];
  /** Why the replica could not be checked: the first request it did not answer. */
  readonly failure?: string;
}

/** How a check runs: `concurrency` is the requests in flight per replica at most. */
export interface RoundOptions extends AskOptions {
  /** Called after each request, for a progress bar. */
  readonly onAnswer?: () => void;
}

/**
 * Runs `work(i)` for i = 0 … n−1, at most `limit` at a time, until one throws: the rest are not
 * started and the first error is rethrown once those in flight have ended.
 */
export async function boundedEach(
  n: number,
  limit: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        await work(i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  if (failed !== undefined) throw failed.error;
}

/** One replica: every subject's outcome, or the failure that stopped it. */
async function checkReplica(
  replica: Replica,
  flag: string,
  subjects: readonly Subject[],
  options: RoundOptions,
): Promise<ReplicaRound> {
  const outcomes: (string | undefined)[] = new Array<string | undefined>(subjects.length);
  let asker: Asker | undefined;
  try {
    asker = await askerFor(replica, flag, subjects[0]?.context ?? {}, options);
    const { ask } = asker;
    await boundedEach(subjects.length, options.concurrency, async (i) => {
      outcomes[i] = await ask((subjects[i] as Subject).context);
      options.onAnswer?.();
    });
    return { replica, outcomes };
  } catch (error) {
    if ((error as Error).name !== 'ReplicaUnreachableError') throw error;
    return { replica, outcomes, failure: (error as Error).message };
  } finally {
    asker?.close();
  }
}

/**
 * One check: every subject evaluated on every replica, the replicas side by side, each with at
 * most `concurrency` requests in flight. A replica that fails a request is not asked more in this
 * check and carries the failure.
 */
export function checkReplicas(
  replicas: readonly Replica[],
  flag: string,
  subjects: readonly Subject[],
  options: RoundOptions,
): Promise<ReplicaRound[]> {
  return Promise.all(replicas.map((replica) => checkReplica(replica, flag, subjects, options)));
}
