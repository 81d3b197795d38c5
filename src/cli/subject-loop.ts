import type { CliIo } from './io.js';
import { progress } from './output.js';
import type { SubjectSet } from './subjects.js';

type Json = Record<string, unknown>;

/** Subjects evaluated between two looks at the event loop (a progress redraw, a Ctrl-C). */
const CHUNK = 5_000;
/** Work (subjects × evaluations each) from which a progress bar is drawn on a terminal. */
export const PROGRESS_FROM = 100_000;

/**
 * Calls `each` for every subject, in chunks that let the event loop run between them, with a
 * progress bar on a terminal when there are many (`evaluations` per subject weighs the work).
 * Resolves `false` when `io.signal` stopped it.
 */
export async function forEachSubject(
  subjects: SubjectSet,
  io: CliIo,
  label: string,
  each: (context: Json) => void,
  evaluations = 1,
): Promise<boolean> {
  const bar =
    subjects.count * evaluations >= PROGRESS_FROM
      ? progress(io, subjects.count, label)
      : { update: () => undefined, stop: () => undefined };
  let done = 0;
  try {
    for (const context of subjects.contexts()) {
      each(context);
      done++;
      if (done % CHUNK === 0) {
        bar.update(done);
        await new Promise((resolve) => setImmediate(resolve));
        if (io.signal.aborted) return false;
      }
    }
    bar.update(done);
    return true;
  } finally {
    bar.stop();
  }
}
