import { readdirSync, readFileSync } from 'node:fs';
import type {
  Client,
  EvaluationContext,
  EvaluationDetails,
  FlagValue,
} from '@openfeature/server-sdk';
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

/**
 * "the flag was modified": the testbed's `changing-flag` toggled between its variants `foo` and
 * `bar`, in the text of a flag file; the caller writes it back as its scenario needs.
 */
export function withChangingFlagToggled(text: string): string {
  const doc = JSON.parse(text) as { flags: Record<string, { defaultVariant: string }> };
  const flag = doc.flags['changing-flag'] as { defaultVariant: string };
  flag.defaultVariant = flag.defaultVariant === 'foo' ? 'bar' : 'foo';
  return JSON.stringify(doc);
}

/** A flag's details through `client`, by the type of a sample value (an object: `{}` as default). */
export function detailsBySample(
  client: Client,
  key: string,
  sample: unknown,
  context: EvaluationContext,
): Promise<EvaluationDetails<FlagValue>> {
  return typeof sample === 'boolean'
    ? client.getBooleanDetails(key, sample, context)
    : typeof sample === 'number'
      ? client.getNumberDetails(key, sample, context)
      : typeof sample === 'string'
        ? client.getStringDetails(key, sample, context)
        : client.getObjectDetails(key, {}, context);
}
