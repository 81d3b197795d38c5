import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

/**
 * A temporary directory for one test file, removed after its tests, and `file(name, content)`,
 * which writes a new file in it whose name ends in `name`: text as it is, anything else as
 * indented JSON. Resolves with the path.
 */
export function scratchDir(prefix: string): {
  readonly dir: string;
  file(name: string, content: unknown): string;
} {
  const dir = mkdtempSync(join(tmpdir(), `rampflag-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let made = 0;
  return {
    dir,
    file(name, content) {
      const path = join(dir, `${made++}-${name}`);
      writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return path;
    },
  };
}

/** Clean-ups a test registers with `push` (a server's stop), run after each test, the latest first. */
export function stopsAfterEach(): (() => unknown)[] {
  const stops: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  return stops;
}

/** `stop`, done once however often it is called: a test may stop a server that is on the stop list too. */
export function stopOnce(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
