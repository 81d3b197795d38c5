import { describe, it } from 'vitest';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where a conformance data set lives: its env override, else `../shared/<name>`. */
function locate(envName: string, name: string): string | undefined {
  const dir = process.env[envName] ?? resolve(root, '..', 'shared', name);
  if (existsSync(dir)) return dir;
  const message = `${name} not found at ${dir} (set ${envName}): its conformance suite is skipped`;
  if (process.env['CI'] === 'true') throw new Error(`${message}, which CI does not allow`);
  console.warn(`NOTICE: ${message}`);
  return undefined;
}

export const testbedDir = locate('FLAGD_TESTBED_DIR', 'flagd-testbed');
export const schemasDir = locate('FLAGD_SCHEMAS_DIR', 'flagd-schemas');

/**
 * `describe(title, body)` when the data set was found. Without it the body is not even run (it
 * would read files that are not there): one skipped test says what is missing.
 */
export function describeWithData(dir: string | undefined, title: string, body: () => void): void {
  if (dir !== undefined) describe(title, body);
  else
    describe.skip(title, () => {
      it('needs ../shared (or FLAGD_TESTBED_DIR / FLAGD_SCHEMAS_DIR)', () => undefined);
    });
}
