import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEvaluator, isInvalidConfigurationError } from '../../src/evaluator/index.js';
import { readConfiguration, type LoadedFlag } from '../../src/evaluator/configuration.js';
import { DEFAULT_LIMITS, readInput } from '../../src/evaluator/load.js';

/**
 * A JSON configuration is loaded a flag at a time (the document without its flags, then each
 * flag's text); a text that is not JSON is parsed whole for its error. Generated configuration
 * texts, then cut, spliced and sprinkled with JSON's own punctuation, must load exactly as the
 * document `JSON.parse` makes of the whole text: refused with JSON.parse's own message when it
 * refuses, else with the same flags, values and issues as that document given as an object.
 */
const RUNS = Number(process.env['RAMPFLAG_FUZZ_RUNS'] ?? 3_000);
const SEED = process.env['RAMPFLAG_FUZZ_SEED'];

const key = fc.oneof(
  fc.constantFrom('a', 'b', 'flag-1', '1', '10', '01', '-1', '__proto__', 'flags', 'x y', 'é', ''),
  fc.string({ maxLength: 4 }),
);
const value = fc.oneof(
  fc.constantFrom(true, false, 0, 1.5, -0, 'on', 'off', null, '\\', '"', '$ref', '}', ']'),
  fc.string({ maxLength: 3 }),
);
const flag = fc.record(
  {
    key,
    state: fc.constantFrom('ENABLED', 'DISABLED', 'ON'),
    variants: fc.dictionary(fc.constantFrom('on', 'off', 'x'), value, { minKeys: 1 }),
    defaultVariant: fc.constantFrom('on', 'off', 'x', null, ''),
    targeting: fc.constantFrom(
      undefined,
      {},
      { if: [{ '==': [{ var: 'k' }, 'a'] }, 'on', 'off'] },
      {
        fractional: [
          ['on', 50],
          ['off', 50],
        ],
      },
      { $ref: 'shared' },
      { if: [{ nope: [] }, 'on', null] },
    ),
    metadata: fc.option(fc.dictionary(key, value, { maxKeys: 2 }), { nil: undefined }),
  },
  { requiredKeys: ['state', 'variants'] },
);
const configuration = fc.record({
  metadata: fc.option(fc.dictionary(fc.constantFrom('flagSetId', 'version', 'o'), value)),
  $evaluators: fc.option(fc.constant({ shared: { '==': [1, 1] } })),
  flags: fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.tuple(key, flag), { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.array(flag, { maxLength: 4 }) },
  ),
});

/** The configuration's text, a key possibly given twice (JSON.stringify cannot write that). */
function textOf(config: {
  metadata: unknown;
  $evaluators: unknown;
  flags: [string, unknown][] | unknown[];
}): string {
  const members = config.flags.map((entry) =>
    Array.isArray(entry)
      ? `${JSON.stringify(entry[0])}: ${JSON.stringify(entry[1])}`
      : JSON.stringify(entry),
  );
  const flags = config.flags.every(Array.isArray) && config.flags.length > 0;
  const body = flags ? `{${members.join(', ')}}` : `[${members.join(',')}]`;
  const parts = [`"flags": ${body}`];
  if (config.metadata !== null) parts.unshift(`"metadata": ${JSON.stringify(config.metadata)}`);
  if (config.$evaluators !== null)
    parts.push(`"$evaluators": ${JSON.stringify(config.$evaluators)}`);
  return `{${parts.join(',\n')}}`;
}

/**
 * One edit of the text: a cut, a splice of punctuation, a duplicated or dropped slice; at any
 * place, or (`near`) just before or after one of its punctuation marks, where most mistakes are.
 */
const edit = fc.tuple(
  fc.constantFrom('insert', 'delete', 'replace', 'duplicate', 'escape', 'none'),
  fc.oneof(fc.nat(), fc.record({ near: fc.nat(), after: fc.boolean() })),
  fc.nat({ max: 12 }),
  fc.constantFrom(
    ...[',', '}', ']', '{', '[', ':', '"', '\\', ' ', '0', 'true', '"k":', '\u0001'],
    ...[':0', ':{}', '0,', ',}', '{}', ', "z": 0', '"z" 0', ']:', '"\u0031": {}'],
  ),
);

type Place = number | { near: number; after: boolean };

function edited(text: string, [kind, at, length, piece]: [string, Place, number, string]) {
  let i: number;
  if (typeof at === 'number') i = at % (text.length + 1);
  else {
    const marks = [...text.matchAll(/[{}[\],:"]/g)].map((match) => match.index);
    const mark = marks[at.near % Math.max(1, marks.length)] ?? 0;
    i = at.after ? mark + 1 : mark;
  }
  switch (kind) {
    case 'insert':
      return text.slice(0, i) + piece + text.slice(i);
    case 'delete':
      return text.slice(0, i) + text.slice(i + length);
    case 'replace':
      return text.slice(0, i) + piece + text.slice(i + piece.length);
    case 'escape': // the same text with one "$" written as an escape, JSON.parse reads alike
      return text.slice(0, i) + text.slice(i).replace('$', '\\u0024');
    case 'duplicate':
      return text.slice(0, i + length) + text.slice(i, i + length) + text.slice(i + length);
    default:
      return text;
  }
}

const OPTIONS = { schema: 'flagd', maxDepth: 128, maxRuleNodes: 1_000_000 } as const;

/** A read flag as comparable data (its text compared as what it parses to). */
const shape = ({ definition, targeting }: LoadedFlag) => ({
  ...definition,
  source: JSON.parse(definition.source) as unknown,
  targeting,
});

/** What reading and loading `text` give, flag at a time: the issues, or the flags. */
function streamed(text: string) {
  let read: ReturnType<typeof readInput>;
  try {
    read = readInput(text, DEFAULT_LIMITS);
  } catch (error) {
    if (!isInvalidConfigurationError(error)) throw error;
    // the evaluator refuses it with the same issues
    const evaluator = createEvaluator();
    expect(() => evaluator.setConfiguration(text)).toThrow(error.message);
    return { issues: error.issues };
  }
  const evaluator = createEvaluator();
  evaluator.setConfiguration(text);
  const results = evaluator.flagKeys().map((k) => {
    const { value, variant, flagMetadata } = evaluator.resolveValue(k, {});
    return { value, variant, flagMetadata };
  });
  return { flags: read.flags.map(shape), metadata: read.metadata, results };
}

/** The same, from the document `JSON.parse` makes of the whole text, read as an object. */
function whole(doc: unknown) {
  const { configuration, issues } = readConfiguration(doc, OPTIONS);
  if (issues.length > 0) return { issues };
  const results = configuration.flags.map(({ definition, targeting }) => {
    const variant = definition.defaultVariant;
    const value = variant === undefined ? undefined : definition.variants[variant];
    // an enabled flag without targeting resolves to its default variant (others are not judged)
    return targeting === undefined && definition.state === 'ENABLED'
      ? { value, variant, flagMetadata: definition.metadata }
      : undefined;
  });
  return { flags: configuration.flags.map(shape), metadata: configuration.metadata, results };
}

describe('loading a flag at a time, against parsing the whole text', () => {
  it('loads any text, valid or broken, exactly as its whole parse', () => {
    let refused = 0;
    let parsed = 0; // JSON, compared with its whole parse
    let clean = 0; // and loaded
    fc.assert(
      fc.property(configuration, fc.array(edit, { maxLength: 3 }), (config, edits) => {
        const text = edits.reduce(edited, textOf(config));
        if (!/^\s*[{[]/.test(text)) return; // read as YAML
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (error) {
          const got = streamed(text);
          expect(got.issues?.map((issue) => issue.rule)).toEqual(['syntax']);
          expect(got.issues?.[0]?.message).toBe(`not valid JSON: ${(error as Error).message}`);
          refused++;
          return;
        }
        const got = streamed(text);
        const expected = whole(doc);
        parsed++;
        if (expected.issues !== undefined) {
          expect(got).toEqual(expected);
          return;
        }
        expect(got.flags).toEqual(expected.flags);
        expect(got.metadata).toEqual(expected.metadata);
        expected.results.forEach((result, i) => {
          if (result !== undefined) expect(got.results?.[i]).toEqual(result);
        });
        clean++;
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: Number(SEED) }) },
    );
    // both sides were reached, or the test proves little
    expect(refused).toBeGreaterThan(RUNS / 10);
    expect(parsed).toBeGreaterThan(RUNS / 10);
    expect(clean).toBeGreaterThan(RUNS / 50);
  });
});
