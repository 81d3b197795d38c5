import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function deepMerge(target: Json, source: Json): Json {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    target[key] = isObject(existing) && isObject(value) ? deepMerge({ ...existing }, value) : value;
  }
  return target;
}

/** `flags/allFlags.json` as the testbed's launchpad builds it: every non-selector file deep-merged. */
export function mergedTestbedFlags(testbedDir: string): Json {
  const dir = join(testbedDir, 'flags');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !name.startsWith('selector-'))
    .sort()
    .reduce<Json>(
      (all, name) => deepMerge(all, JSON.parse(readFileSync(join(dir, name), 'utf8')) as Json),
      {},
    );
}

/** The tag filter for an in-process evaluator at flagd 0.16 / testbed v3.9.0. */
export const EVALUATOR_TAGS = 'not @fractional-v1 and not @fractional-v3 and not @deprecated';

/**
 * The tag filter for an evaluator with the option `fractional: 'v3'`: the `@fractional-v3` vectors
 * in place of v2's, and every scenario that holds whatever the bucketing.
 */
export const EVALUATOR_V3_TAGS = 'not @fractional-v1 and not @fractional-v2 and not @deprecated';

/**
 * rampflag's own scenarios in the testbed's step language, against the testbed's flags, for cases
 * the testbed leaves out (test/fixtures/testbed-supplement): run beside its own feature files.
 */
export const SUPPLEMENT_FEATURES: readonly string[] = ['empty-targeting-key.feature'].map((name) =>
  join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'testbed-supplement', name),
);

/**
 * The evaluation contexts the interoperability tests resolve every testbed flag with: none, and two
 * that match testbed rules (semver, ring, email and string operators, fractional keys).
 */
export const INTEROP_CONTEXTS: readonly Readonly<Record<string, unknown>>[] = [
  {},
  {
    targetingKey: 'jon@company.com',
    user: { name: 'jack' },
    version: '1.2.3',
    tier: 'premium',
    color: 'red',
  },
  {
    targetingKey: 'user1',
    email: 'ballmer@macrosoft.com',
    version: '2.0.0',
    customer: true,
    age: 30,
  },
];
