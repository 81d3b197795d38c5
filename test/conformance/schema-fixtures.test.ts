import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  validateConfiguration,
  validateTargeting,
  type SchemaName,
} from '../../src/evaluator/index.js';
import { schemasDir, describeWithData } from '../support/shared-data.js';

/**
 * Validates a fixture: a bare targeting rule, or a configuration held to the schema it names in
 * `$schema` (as a JSON Schema validator would), else to its folder's schema.
 */
function issuesOf(kind: string, text: string) {
  if (kind === 'targeting') return validateTargeting(JSON.parse(text));
  const declares = '$schema' in (JSON.parse(text) as object);
  return validateConfiguration(text, declares ? {} : { schema: kind as SchemaName });
}

describeWithData(schemasDir, 'flagd-schemas fixtures', () => {
  const root = join(schemasDir as string, 'json', 'test');
  let count = 0;
  for (const kind of readdirSync(root)) {
    for (const verdict of ['positive', 'negative'] as const) {
      const dir = join(root, kind, verdict);
      let files: string[] = [];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      } catch {
        continue;
      }
      describe(`${kind}/${verdict}`, () => {
        it.each(files)('%s', (file) => {
          count++;
          const issues = issuesOf(kind, readFileSync(join(dir, file), 'utf8'));
          if (verdict === 'positive') expect(issues).toEqual([]);
          else {
            expect(issues.length).toBeGreaterThan(0);
            for (const issue of issues) {
              expect(issue.rule).toMatch(/\S/);
              expect(issue.message).toMatch(/\S/);
            }
          }
        });
      });
    }
  }
  afterAll(() => {
    console.log(`flagd-schemas: ${count} fixtures checked`);
    expect(count).toBeGreaterThanOrEqual(30);
  });
});
