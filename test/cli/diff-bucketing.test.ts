import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketingMoves, type BucketingMoves } from 'rampflag';
import { createEvaluator, type FractionalBucketing } from '../../src/evaluator/index.js';
import { diff } from '../../src/cli/diff.js';
import { main } from '../../src/cli/main.js';
import { fakeIo, generatedSubjects } from '../support/cli-io.js';
import { testbedDir } from '../support/shared-data.js';
import { boolFlag, percent } from '../support/flag-docs.js';
import { scratchDir } from '../support/scratch.js';

const { file } = scratchDir('cli-diff-bucketing');

type Json = Record<string, unknown>;

/** The testbed's fractional flags (skipped, with a notice, where ../shared is not beside us). */
const TESTBED = join(testbedDir ?? '/nonexistent', 'flags/custom-ops.json');
const withTestbed = it.runIf(testbedDir !== undefined);

async function run(args: string[], tty = false) {
  const io = fakeIo({ tty });
  const code = await diff(args, io.io);
  return { code, ...io };
}

interface Cell {
  from: string;
  to: string;
  subjects: number;
  share: number;
}
interface FlagReport {
  flag: string;
  subjects: number;
  moved: number;
  share: number;
  moves: Cell[];
  matrix: Cell[];
  defaults: { from: number; to: number };
}
interface Report {
  configuration: string;
  bucketing: { from: string; to: string };
  subjects: Json;
  flags: FlagReport[];
  unaffected: string[];
  changes: boolean;
}

/** `rampflag diff --bucketing <switch> <doc> --json`. */
async function bucketingJson(doc: unknown, extra: string[] = [], change = 'v2..v3') {
  const { code, text, err } = await run([
    '--bucketing',
    change,
    typeof doc === 'string' ? doc : file('flags.json', doc),
    '--json',
    ...extra,
  ]);
  expect(err).toEqual([]);
  return { code, report: JSON.parse(text()) as Report };
}

const generated = (n: number) => generatedSubjects(n);

/** Subjects per `from → to` (stays included), each evaluated directly under both bucketings. */
function direct(
  doc: unknown,
  flag: string,
  contexts: readonly Json[],
  [from, to]: [FractionalBucketing, FractionalBucketing] = ['v2', 'v3'],
): Map<string, number> {
  const [a, b] = [createEvaluator({ fractional: from }), createEvaluator({ fractional: to })];
  a.setConfiguration(JSON.stringify(doc));
  b.setConfiguration(JSON.stringify(doc));
  const cells = new Map<string, number>();
  for (const context of contexts) {
    const key = `${a.resolveValue(flag, context).variant ?? '(default)'} → ${b.resolveValue(flag, context).variant ?? '(default)'}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  return cells;
}
const cellsOf = (cells: readonly Readonly<Cell>[]) =>
  new Map(cells.map((c) => [`${c.from} → ${c.to}`, c.subjects]));
const flagOf = <F extends { readonly flag: string }>(
  report: { flags: readonly F[] },
  key: string,
) => report.flags.find((f) => f.flag === key) as F;

const jsonl = (contexts: readonly Json[]) => contexts.map((c) => JSON.stringify(c)).join('\n');

describe('rampflag diff --bucketing', () => {
  it('documents --bucketing in the help, with an example and its exit code', async () => {
    const { code, text } = await run(['--help']);
    expect(code).toBe(0);
    expect(text()).toContain('--bucketing <from..to>');
    expect(text()).toContain('  rampflag diff --bucketing v2..v3 flags.json');
    expect(text()).toMatch(/ {2}1 .*with --bucketing, a subject moves/);
    expect(await main(['diff', '--help'], fakeIo().io)).toBe(0);
  });

  withTestbed(
    'moves jon@company.com heads → tails and keeps jane@company.com on tails (testbed vectors)',
    async () => {
      const subjects = file(
        'users.jsonl',
        jsonl([{ targetingKey: 'jon@company.com' }, { targetingKey: 'jane@company.com' }]),
      );
      const { code, report } = await bucketingJson(TESTBED, ['--subjects-file', subjects]);
      expect(code).toBe(1);
      const shorthand = flagOf(report, 'fractional-flag-shorthand');
      expect(shorthand).toMatchObject({ subjects: 2, moved: 1, share: 0.5 });
      expect(shorthand.moves).toEqual([{ from: 'heads', to: 'tails', subjects: 1, share: 0.5 }]);
      expect(cellsOf(shorthand.matrix)).toEqual(
        new Map([
          ['heads → tails', 1],
          ['tails → tails', 1],
        ]),
      );
      // and back: v3..v2 is the transposed matrix
      const back = await bucketingJson(TESTBED, ['--subjects-file', subjects], 'v3..v2');
      expect(flagOf(back.report, 'fractional-flag-shorthand').moves).toEqual([
        { from: 'tails', to: 'heads', subjects: 1, share: 0.5 },
      ]);
      expect(back.report.bucketing).toEqual({ from: 'v3', to: 'v2' });
    },
  );

  withTestbed(
    'moves 4 of the 5 testbed "Fractional operator" names, as the v2 and v3 examples say',
    async () => {
      // v2: jack hearts, queen spades, ten clubs, nine diamonds, 3 clubs
      // v3: jack diamonds, queen diamonds, ten clubs, nine clubs, 3 spades
      const names = ['jack', 'queen', 'ten', 'nine', '3'];
      const subjects = names.map((name) => ({ targetingKey: 'any', user: { name } }));
      const result = bucketingMoves(readFileSync(TESTBED, 'utf8'), {
        from: 'v2',
        to: 'v3',
        subjects,
      });
      const flag = flagOf(result, 'fractional-flag');
      expect(flag.moved).toBe(4);
      expect(flag.share).toBeCloseTo(0.8, 12);
      expect(cellsOf(flag.matrix)).toEqual(
        new Map([
          ['clubs → clubs', 1],
          ['clubs → spades', 1],
          ['diamonds → clubs', 1],
          ['hearts → diamonds', 1],
          ['spades → diamonds', 1],
        ]),
      );
    },
  );

  it('gives the shares that evaluating each subject under both bucketings gives', async () => {
    const doc = {
      flags: {
        checkout: boolFlag(percent(10)),
        colour: {
          state: 'ENABLED',
          variants: { red: 'r', green: 'g', blue: 'b' },
          defaultVariant: 'red',
          targeting: {
            fractional: [
              ['red', 20],
              ['green', 30],
              ['blue', 50],
            ],
          },
        },
      },
    };
    const { code, report } = await bucketingJson(doc);
    expect(code).toBe(1);
    expect(report.flags.map((f) => f.flag)).toEqual(['checkout', 'colour']);
    for (const flag of report.flags) {
      const want = direct(doc, flag.flag, generated(10_000));
      expect(cellsOf(flag.matrix)).toEqual(want);
      const moved = [...want].filter(([k]) => !/^(\S+) → \1$/.test(k));
      expect(flag.moved).toBe(moved.reduce((sum, [, n]) => sum + n, 0));
      expect(flag.share).toBeCloseTo(flag.moved / 10_000, 12);
      expect(flag.subjects).toBe(10_000);
    }
    // independent hashes: 1 − Σ pᵢ² of the subjects move
    const expected = { checkout: 1 - 0.1 ** 2 - 0.9 ** 2, colour: 1 - 0.04 - 0.09 - 0.25 };
    for (const [key, share] of Object.entries(expected))
      expect(Math.abs(flagOf(report, key).share - share)).toBeLessThan(0.02);
  });

  it('counts seeded random subjects with a base context, as the two-file diff does', async () => {
    const doc = { flags: { checkout: boolFlag(percent(50)) } };
    const { report } = await bucketingJson(doc, [
      '--subjects',
      '2k',
      '--seed',
      '7',
      '--context',
      '{"ring":"canary"}',
    ]);
    expect(report.subjects).toEqual({
      source: 'generated',
      count: 2000,
      targetingKeys: 'seeded-random',
      seed: 7,
    });
    expect(flagOf(report, 'checkout').subjects).toBe(2000);
  });

  it('rejects a bad --bucketing naming the value and the ones allowed, with exit 2', async () => {
    const flags = file('flags.json', { flags: { checkout: boolFlag(percent(10)) } });
    for (const bad of ['v2..v4', 'v2..v2', 'v3', 'v2-v3', '']) {
      const { code, err, out } = await run(['--bucketing', bad, flags]);
      expect(code).toBe(2);
      expect(out).toEqual([]);
      expect(err.join('\n')).toContain(`'${bad}' is not a bucketing switch: give v2..v3 or v3..v2`);
    }
  });

  it('takes exactly one flag file and no --from (exit 2)', async () => {
    const flags = file('flags.json', { flags: { checkout: boolFlag(percent(10)) } });
    for (const args of [
      ['--bucketing', 'v2..v3', flags, flags],
      ['--bucketing', 'v2..v3', '--from', 'http://127.0.0.1:1', flags],
    ]) {
      const { code, err } = await run(args);
      expect(code).toBe(2);
      expect(err.join('\n')).toContain('give one flag file with --bucketing, and no --from');
    }
    const missing = await run(['--bucketing', 'v2..v3', join(flags, 'nope.json')]);
    expect(missing.code).toBe(2);
    const invalid = await run(['--bucketing', 'v2..v3', file('bad.json', '{"flags": {')]);
    expect(invalid.code).toBe(2);
    expect(invalid.err.join('\n')).toContain('bad.json');
  });

  it('buckets a number key under v3 that v2 buckets on the targeting key, and says who defaults', async () => {
    const doc = {
      flags: {
        byId: boolFlag({
          fractional: [{ var: 'userId' }, ['on', 50], ['off', 50]],
        }),
      },
    };
    const contexts = Array.from({ length: 1000 }, (_, i) => ({
      targetingKey: `subject-${i}`,
      userId: i,
    }));
    const result = bucketingMoves(doc, { from: 'v2', to: 'v3', subjects: contexts });
    const flag = flagOf(result, 'byId');
    expect(cellsOf(flag.matrix)).toEqual(direct(doc, 'byId', contexts));
    // v2 gives null (the default variant, off) for a number; v3 buckets it: half move off → on
    expect(flag.defaults).toEqual({ from: 1000, to: 0 });
    expect(flag.moves.map((m) => `${m.from} → ${m.to}`)).toEqual(['off → on']);
    expect(flag.share).toBeGreaterThan(0.4);
    expect(flag.share).toBeLessThan(0.6);
    const numbers = file('ids.jsonl', jsonl(contexts));
    const printed = await run([
      '--bucketing',
      'v2..v3',
      file('f.json', doc),
      '--subjects-file',
      numbers,
    ]);
    expect(printed.text()).toContain(
      'for 1,000 subjects under v2, 0 under v3: v2 gives null for a bucketing value that is not a string',
    );
    // without userId, v3 gives null (the default variant) where v2 buckets on the targeting key
    const { report } = await bucketingJson(doc, ['--subjects', '1000']);
    expect(flagOf(report, 'byId').defaults).toEqual({ from: 0, to: 1000 });
    expect(cellsOf(flagOf(report, 'byId').matrix)).toEqual(direct(doc, 'byId', generated(1000)));
    const { text } = await run([
      '--bucketing',
      'v2..v3',
      file('f.json', doc),
      '--subjects',
      '1000',
    ]);
    expect(text()).toContain(
      'the targeting gives null (the default variant) for 0 subjects under v2, 1,000 under v3: v3 gives null for a null bucketing value',
    );
  });

  it('omits a flag without fractional from the moves and lists it as unaffected', async () => {
    const doc = {
      flags: {
        plain: boolFlag(),
        ring: boolFlag({ if: [{ '==': [{ var: 'ring' }, 'canary'] }, 'on', 'off'] }),
      },
    };
    const { code, report } = await bucketingJson(doc);
    expect(code).toBe(0);
    expect(report.flags).toEqual([]);
    expect(report.unaffected).toEqual(['plain', 'ring']);
    expect(report.changes).toBe(false);
    const { text } = await run(['--bucketing', 'v2..v3', file('f.json', doc)]);
    expect(text()).toContain('No flag has a fractional: nobody moves.');
    expect(text()).toContain('Unaffected, without a fractional (2): plain, ring');
  });

  it('evaluates a nested fractional: inside an if, and a fractional within a bucket', async () => {
    const inner = {
      fractional: [
        ['green', 50],
        ['blue', 50],
      ],
    };
    const doc = {
      flags: {
        nested: {
          state: 'ENABLED',
          variants: { red: 'r', green: 'g', blue: 'b' },
          defaultVariant: 'red',
          targeting: {
            if: [
              { '==': [{ var: 'plan' }, 'free'] },
              'red',
              {
                fractional: [
                  ['red', 50],
                  [inner, 50],
                ],
              },
            ],
          },
        },
      },
    };
    const contexts = generated(4000).map((c, i) => ({ ...c, plan: i % 4 === 0 ? 'free' : 'pro' }));
    const result = bucketingMoves(doc, { from: 'v2', to: 'v3', subjects: contexts });
    const flag = flagOf(result, 'nested');
    expect(cellsOf(flag.matrix)).toEqual(direct(doc, 'nested', contexts));
    // the free quarter always gets red; the rest re-bucket
    expect(flag.moved).toBeGreaterThan(0);
    expect(
      flag.matrix.filter((c) => c.from === 'red' && c.to === 'red')[0]?.subjects,
    ).toBeGreaterThanOrEqual(1000);
  });

  it('says what subjects are when the library call is given none', () => {
    const doc = { flags: {} };
    for (const options of [
      { from: 'v2', to: 'v3' },
      { from: 'v2', to: 'v3', subjects: 3 },
    ])
      expect(() => bucketingMoves(doc, options as never)).toThrow(
        /options\.subjects must be the evaluation contexts to compare/,
      );
  });

  it('follows $ref into shared evaluators, in the library and the command', async () => {
    const doc = {
      $evaluators: {
        half: {
          fractional: [
            ['on', 50],
            ['off', 50],
          ],
        },
        pro: { '==': [{ var: 'plan' }, 'pro'] },
      },
      flags: {
        viaRef: boolFlag({ $ref: 'half' }),
        proOnly: boolFlag({ if: [{ $ref: 'pro' }, 'on', 'off'] }),
      },
    };
    const result = bucketingMoves(doc, { from: 'v2', to: 'v3', subjects: generated(2000) });
    expect(result.flags.map((f) => f.flag)).toEqual(['viaRef']);
    expect(result.unaffected).toEqual(['proOnly']);
    expect(cellsOf(flagOf(result, 'viaRef').matrix)).toEqual(
      direct(doc, 'viaRef', generated(2000)),
    );
    const { report } = await bucketingJson(doc, ['--subjects', '2000']);
    expect(flagOf(report, 'viaRef')).toEqual(flagOf(result, 'viaRef'));
    expect(report.unaffected).toEqual(['proOnly']);
  });

  it('prints a stable JSON shape', async () => {
    const doc = { flags: { checkout: boolFlag(percent(10)), plain: boolFlag() } };
    const path = file('flags.json', doc);
    const { report } = await bucketingJson(path, ['--subjects', '100']);
    expect(Object.keys(report)).toEqual([
      'configuration',
      'bucketing',
      'subjects',
      'flags',
      'unaffected',
      'changes',
    ]);
    expect(report.configuration).toBe(path);
    expect(report.bucketing).toEqual({ from: 'v2', to: 'v3' });
    expect(report.subjects).toEqual({
      source: 'generated',
      count: 100,
      targetingKeys: 'subject-<i>',
    });
    const [flag] = report.flags;
    expect(Object.keys(flag ?? {})).toEqual([
      'flag',
      'subjects',
      'moved',
      'share',
      'moves',
      'matrix',
      'defaults',
    ]);
    for (const cell of [...(flag?.moves ?? []), ...(flag?.matrix ?? [])])
      expect(Object.keys(cell)).toEqual(['from', 'to', 'subjects', 'share']);
    expect(flag?.matrix.reduce((sum, c) => sum + c.subjects, 0)).toBe(100);
    expect(report.unaffected).toEqual(['plain']);
    expect(report.changes).toBe(true);
  });

  it('prints the share, each move and the matrix for people; --exit-zero exits 0', async () => {
    const doc = { flags: { checkout: boolFlag(percent(10)) } };
    const path = file('flags.json', doc);
    const { code, text } = await run(['--bucketing', 'v2..v3', path, '--exit-zero']);
    expect(code).toBe(0);
    const cells = direct(doc, 'checkout', generated(10_000));
    const moved = (cells.get('off → on') ?? 0) + (cells.get('on → off') ?? 0);
    const n = (k: number) => k.toLocaleString('en-US');
    expect(text()).toContain(
      `${path}: fractional bucketing v2 → v3, over 10,000 generated subjects (targetingKey subject-0 … subject-9999):`,
    );
    expect(text()).toContain(
      `  ~ checkout: ${(moved / 100).toFixed(2)} % of subjects move (${n(moved)} of the 10,000 evaluated)`,
    );
    expect(text()).toContain(
      `of subjects move off → on (estimated from 10,000 subjects: ${n(cells.get('off → on') ?? 0)})`,
    );
    expect(text()).toMatch(/v2 \\ v3 +off +on\n +off +[\d,]+ +[\d,]+\n +on +[\d,]+ +[\d,]+/);
    expect(text()).toContain('1 of 1 flag with a fractional move subjects; 0 flags without');
  });

  it('exits 130 when stopped', async () => {
    const doc = { flags: { checkout: boolFlag(percent(10)) } };
    const io = fakeIo();
    io.stop();
    const code = await diff(['--bucketing', 'v2..v3', file('f.json', doc)], io.io);
    expect(code).toBe(130);
  });

  it('has the library refuse an unknown bucketing, as createEvaluator does', () => {
    const doc = { flags: { checkout: boolFlag(percent(10)) } };
    const options = { from: 'v2', to: 'v4', subjects: [] } as unknown as Parameters<
      typeof bucketingMoves
    >[1];
    expect(() => bucketingMoves(doc, options)).toThrow(RangeError);
    const none: BucketingMoves = bucketingMoves(doc, { from: 'v2', to: 'v3', subjects: [] });
    expect(none).toMatchObject({ subjects: 0, moved: false });
    expect(flagOf(none, 'checkout')).toMatchObject({ moved: 0, share: 0, matrix: [] });
  });
});
