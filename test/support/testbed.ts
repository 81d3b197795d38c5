import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
