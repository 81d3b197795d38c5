import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileFlagSource } from 'rampflag';
import { createEvaluator } from '../../src/evaluator/index.js';
import { distribution } from '../../src/cli/distribution.js';
import { main } from '../../src/cli/main.js';
import { chiSquaredTail } from '../../src/stats/index.js';
import { fakeIo, generatedSubjects } from '../support/cli-io.js';
import { boolFlag, percent } from '../support/flag-docs.js';
import { freePort } from '../support/ports.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';
import { serverOnFreePorts } from '../support/test-server.js';

const { file } = scratchDir('cli-distribution');
const stops = stopsAfterEach();
afterEach(() => vi.unstubAllEnvs());

type Json = Record<string, unknown>;

const ramp = boolFlag(percent(10));
/** Half of the canary ring gets it, 5 % of everyone else. */
const ringed = boolFlag({ if: [{ '==': [{ var: 'ring' }, 'canary'] }, percent(50), percent(5)] });
const plain = { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'a' };
const doc = { flags: { ramp, ringed, plain } };
const flagsFile = () => file('flags.json', JSON.stringify(doc));

async function run(args: string[], extra: Parameters<typeof fakeIo>[0] = {}, env: Json = {}) {
  const io = fakeIo(extra);
  const code = await distribution(args, io.io, env as NodeJS.ProcessEnv);
  return { code, ...io };
}

async function runJson(args: string[]) {
  const { code, text, err } = await run([...args, '--json']);
  expect(err).toEqual([]);
  return { code, report: JSON.parse(text()) as Report };
}

interface Count {
  variant: string;
  subjects: number;
  share: number;
  configuredShare?: number;
}
interface Report {
  flag: string;
  total: number;
  variants: Count[];
  splits: {
    path: string;
    subjects: number;
    variants: Count[];
    chiSquared: { statistic: number; df: number; pValue: number; verdict: string };
  }[];
  cohorts?: {
    attribute: string;
    groups: { cohort: string; subjects: number; variants: Count[] }[];
  };
  mismatch: boolean;
  subjects: { source: string; count: number; targetingKeys?: string; seed?: number };
}

/** Direct evaluation: what each context gets from `flag`, counted per variant. */
function direct(flag: string, contexts: readonly Json[]): Map<string, number> {
  const evaluator = createEvaluator();
  evaluator.setConfiguration(JSON.stringify(doc));
  const counts = new Map<string, number>();
  for (const context of contexts) {
    const variant = evaluator.resolveValue(flag, context).variant ?? '(default)';
    counts.set(variant, (counts.get(variant) ?? 0) + 1);
  }
  return counts;
}

const generated = generatedSubjects;
const byVariant = (counts: readonly Count[]) => new Map(counts.map((c) => [c.variant, c.subjects]));
const jsonl = (contexts: readonly Json[]) => contexts.map((c) => JSON.stringify(c)).join('\n');

describe('rampflag distribution', () => {
  it('prints its help with examples and exit codes, and exits 0', async () => {
    const { code, text } = await run(['--help']);
    expect(code).toBe(0);
    expect(text()).toMatch(/Examples:\n {2}rampflag distribution new-checkout flags\.yaml/);
    expect(text()).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*--fail-on-mismatch/);
    const viaMain = fakeIo();
    expect(await main(['distribution', '--help'], viaMain.io)).toBe(0);
  });

  it('counts 10,000 generated subjects (subject-0 … subject-9999) as direct evaluation does', async () => {
    const { code, report } = await runJson(['ramp', flagsFile()]);
    expect(code).toBe(0);
    const expected = direct('ramp', generated(10_000));
    expect(report.total).toBe(10_000);
    expect(byVariant(report.variants)).toEqual(expected);
    expect(report.subjects).toEqual({
      source: 'generated',
      count: 10_000,
      targetingKeys: 'subject-<i>',
    });
    const on = report.variants.find((v) => v.variant === 'on');
    expect(on?.share).toBe((expected.get('on') ?? 0) / 10_000);
    expect(on?.configuredShare).toBe(0.1);
  });

  it('checks the split with χ² against the weights: statistic, df and p-value', async () => {
    const { report } = await runJson(['ramp', flagsFile()]);
    const counts = direct('ramp', generated(10_000));
    const [on, off] = [counts.get('on') ?? 0, counts.get('off') ?? 0];
    const statistic = (on - 1_000) ** 2 / 1_000 + (off - 9_000) ** 2 / 9_000;
    const [split] = report.splits;
    expect(split?.path).toBe('targeting.fractional');
    expect(split?.chiSquared.statistic).toBeCloseTo(statistic, 9);
    expect(split?.chiSquared.df).toBe(1);
    expect(split?.chiSquared.pValue).toBeCloseTo(chiSquaredTail(statistic, 1), 12);
    expect(split?.chiSquared.verdict).toBe('consistent');
    expect(report.mismatch).toBe(false);
  });

  it('prints the table and a plain verdict for people', async () => {
    const { code, text } = await run(['ramp', flagsFile()]);
    expect(code).toBe(0);
    const counts = direct('ramp', generated(10_000));
    const on = (counts.get('on') ?? 0).toLocaleString('en-US');
    expect(text()).toMatch(
      /over 10,000 generated subjects \(targetingKey subject-0 … subject-9999\)/,
    );
    expect(text()).toMatch(new RegExp(`on\\s+${on}\\s+\\d+\\.\\d\\d %\\s+10\\.00 %`));
    expect(text()).toMatch(
      /χ² = \d+\.\d\d, df = 1, p = [\d.e-]+: consistent with the configured weights/,
    );
  });

  it('flags a hand-built skewed subjects file (70 % on where 50 % is configured)', async () => {
    const evaluator = createEvaluator();
    evaluator.setConfiguration(JSON.stringify(doc));
    const picked: Json[] = [];
    const want = { on: 700, off: 300 };
    for (let i = 0; want.on + want.off > 0; i++) {
      const context = { targetingKey: `user-${i}`, ring: 'canary' };
      const variant = evaluator.resolveValue('ringed', context).variant as 'on' | 'off';
      if (want[variant] > 0) {
        want[variant]--;
        picked.push(context);
      }
    }
    const subjects = file('skewed.jsonl', `${jsonl(picked)}\n`);
    const loose = await run(['ringed', flagsFile(), '--subjects-file', subjects]);
    expect(loose.code).toBe(0);
    expect(loose.text()).toMatch(
      /p = [\d.e-]+: MISMATCH: the split differs from the configured weights/,
    );
    const strict = await run([
      'ringed',
      flagsFile(),
      '--subjects-file',
      subjects,
      '--fail-on-mismatch',
    ]);
    expect(strict.code).toBe(1);
    const { report } = await runJson(['ringed', flagsFile(), '--subjects-file', subjects]);
    const canary = report.splits.find((s) => s.path === 'targeting.if[1].fractional');
    expect(byVariant(canary?.variants ?? [])).toEqual(
      new Map([
        ['on', 700],
        ['off', 300],
      ]),
    );
    expect(canary?.chiSquared.statistic).toBeCloseTo(160, 9); // 2 × 200² / 500
    expect(canary?.chiSquared.pValue).toBeLessThan(0.001);
    expect(report.mismatch).toBe(true);
  });

  it('counts per cohort and per split from a subjects file, as direct evaluation does', async () => {
    const contexts = Array.from({ length: 2_000 }, (_, i) => ({
      targetingKey: `user-${i}`,
      ring: i % 4 === 0 ? 'canary' : 'main',
    }));
    const subjects = file('users.jsonl', `${jsonl(contexts)}\n\n`);
    const args = ['ringed', flagsFile(), '--subjects-file', subjects, '--cohort', 'ring'];
    const { report } = await runJson(args);
    expect(report.subjects).toEqual({ source: 'file', count: 2_000, file: subjects });
    expect(byVariant(report.variants)).toEqual(direct('ringed', contexts));
    for (const ring of ['canary', 'main']) {
      const group = report.cohorts?.groups.find((g) => g.cohort === ring);
      const members = contexts.filter((c) => c.ring === ring);
      expect(group?.subjects).toBe(members.length);
      expect(byVariant(group?.variants ?? [])).toEqual(direct('ringed', members));
    }
    const [canary, rest] = report.splits;
    expect(canary?.subjects).toBe(500);
    expect(byVariant(canary?.variants ?? [])).toEqual(
      direct(
        'ringed',
        contexts.filter((c) => c.ring === 'canary'),
      ),
    );
    expect(rest?.subjects).toBe(1_500);
    expect(rest?.variants.map((v) => v.configuredShare)).toEqual([0.05, 0.95]);
    // two splits reach part of the subjects each: no single configured column
    expect(report.variants.every((v) => v.configuredShare === undefined)).toBe(true);
    const { text } = await run(args);
    expect(text()).toMatch(/By ring:\nring\s+subjects\s+off\s+on\nmain\s+1,500/);
  });

  it('puts the --context base under every generated subject', async () => {
    const base = { ring: 'canary' };
    const { report } = await runJson([
      'ringed',
      flagsFile(),
      '--subjects',
      '3000',
      '--context',
      JSON.stringify(base),
    ]);
    expect(byVariant(report.variants)).toEqual(direct('ringed', generated(3_000, base)));
    expect(report.splits.map((s) => s.subjects)).toEqual([3_000, 0]);
  });

  it('generates seeded random ids with --seed, the same for the same seed', async () => {
    const first = await runJson(['ramp', flagsFile(), '--subjects', '5k', '--seed', '7']);
    const again = await runJson(['ramp', flagsFile(), '--subjects', '5k', '--seed', '7']);
    const other = await runJson(['ramp', flagsFile(), '--subjects', '5k', '--seed', '8']);
    expect(first.report.subjects).toEqual({
      source: 'generated',
      count: 5_000,
      targetingKeys: 'seeded-random',
      seed: 7,
    });
    expect(first.report.variants).toEqual(again.report.variants);
    expect(first.report.variants).not.toEqual(other.report.variants);
    const { text } = await run(['ramp', flagsFile(), '--subjects', '5k', '--seed', '7']);
    expect(text()).toMatch(
      /5,000 generated subjects \(targetingKey seeded random ids \(u-…, seed 7\)\)/,
    );
  });

  it('says when a flag has no fractional split to check', async () => {
    const { code, text } = await run(['plain', flagsFile(), '--subjects', '10']);
    expect(code).toBe(0);
    expect(text()).toMatch(/a\s+10\s+100\.00 %/);
    expect(text()).toMatch(/No fractional split in this flag/);
  });

  it('reads the flags from a server with --from (FetchAllFlags)', async () => {
    const server = serverOnFreePorts({ source: new FileFlagSource(flagsFile()) });
    const ports = await server.start();
    stops.push(() => server.stop());
    const { report } = await runJson(['ramp', '--from', `grpc://127.0.0.1:${ports.syncPort}`]);
    expect(byVariant(report.variants)).toEqual(direct('ramp', generated(10_000)));
  });

  it('exits 3 when the server cannot be reached', async () => {
    const { code, err } = await run(['ramp', '--from', `grpc://127.0.0.1:${await freePort()}`]);
    expect(code).toBe(3);
    expect(err.join()).toMatch(/^rampflag distribution: .*127\.0\.0\.1/);
  });

  it('draws a progress bar on a terminal for large counts, and nothing off one', async () => {
    let drawn = '';
    const progress = new Writable({
      write(chunk: Buffer, _encoding, done) {
        drawn += chunk.toString();
        done();
      },
    });
    Object.assign(progress, {
      isTTY: true,
      columns: 100,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    await run(['ramp', flagsFile(), '--subjects', '100000'], { tty: true, progress });
    expect(drawn).toMatch(/ramp \[/);
    drawn = '';
    await run(['ramp', flagsFile(), '--subjects', '100000'], { tty: false, progress });
    expect(drawn).toBe('');
  });

  it.each([
    [['ramp'], /give flag files or --from <server>/],
    [
      ['ramp', 'flags.json', '--from', 'grpc://localhost:8015'],
      /give flag files or --from <server>/,
    ],
    [['ramp', 'flags.json', '--subjects', '0'], /--subjects <n>.*a whole number from 1/],
    [['ramp', 'flags.json', '--subjects', 'many'], /--subjects <n>/],
    [['ramp', 'flags.json', '--context', '[1]'], /a context is a JSON object/],
    [['ramp', 'flags.json', '--nope'], /unknown option '--nope'/],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('exits 2 naming the line of a bad subject', async () => {
    const subjects = file('bad.jsonl', '{"targetingKey":"a"}\n\n["not", "an object"]\n');
    const { code, err } = await run(['ramp', flagsFile(), '--subjects-file', subjects]);
    expect(code).toBe(2);
    expect(err.join()).toMatch(
      new RegExp(`${subjects.replace(/[.\\]/g, '\\$&')}:3: a context must be a JSON object`),
    );
    const broken = file('broken.jsonl', '{"targetingKey":"a"}\n{oops\n');
    expect((await run(['ramp', flagsFile(), '--subjects-file', broken])).err.join()).toMatch(
      /broken\.jsonl:2: not JSON/,
    );
  });

  it('exits 2 for an unknown flag, naming the near ones, and for an invalid file', async () => {
    const unknown = await run(['ram', flagsFile()]);
    expect(unknown.code).toBe(2);
    expect(unknown.err.join()).toMatch(/flag 'ram' is not in \S+flags\.json; did you mean 'ramp'/);
    const invalid = file(
      'invalid.json',
      JSON.stringify({ flags: { x: { state: 'ON', variants: {} } } }),
    );
    const bad = await run(['x', invalid]);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(
      /invalid\.json is not a valid flag configuration:\n {2}\S+invalid\.json:1:\d+: flags\.x\.state: /,
    );
  });

  it('colours the verdict on a terminal unless NO_COLOR is set', async () => {
    vi.stubEnv('NO_COLOR', '');
    vi.stubEnv('FORCE_COLOR', '1');
    const coloured = await run(['ramp', flagsFile(), '--subjects', '1000'], { tty: true });
    expect(coloured.text()).toContain('\u001b[32mconsistent');
    vi.stubEnv('NO_COLOR', '1');
    const plainText = await run(['ramp', flagsFile(), '--subjects', '1000'], { tty: true });
    expect(plainText.text()).toMatch(/: consistent with the configured weights/);
  });
});
