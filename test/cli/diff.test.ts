import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileFlagSource } from 'rampflag';
import { createEvaluator } from '../../src/evaluator/index.js';
import { diff } from '../../src/cli/diff.js';
import { main } from '../../src/cli/main.js';
import { fakeIo, generatedSubjects } from '../support/cli-io.js';
import { boolFlag, percent } from '../support/flag-docs.js';
import { freePort } from '../support/ports.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';
import { serverOnFreePorts } from '../support/test-server.js';

const { dir, file } = scratchDir('cli-diff');
const stops = stopsAfterEach();
afterEach(() => vi.unstubAllEnvs());

type Json = Record<string, unknown>;

async function run(args: string[], tty = false, env: Json = {}) {
  const io = fakeIo({ tty });
  const code = await diff(args, io.io, env as NodeJS.ProcessEnv);
  return { code, ...io };
}

interface Move {
  from: string;
  to: string;
  subjects: number;
  share: number;
  exactShare?: number;
}
interface Warning {
  flag: string;
  kind: string;
  path: string;
  message: string;
  lostShare: number;
  lostOfTreated: number | null;
  exact: boolean;
}
interface Report {
  added: string[];
  removed: string[];
  changed: {
    flag: string;
    aspects: string[];
    details: string[];
    basis: string;
    moves: Move[];
    valueChanges: { variant: string; subjects: number }[];
    warnings: Warning[];
  }[];
  renamed: { from: string; to: string; moves: Move[]; warnings: Warning[] }[];
  warnings: Warning[];
  rebucketing: boolean;
  changes: boolean;
  subjects: Json;
}

/** `rampflag diff old new --json` on two flag documents. */
async function diffJson(before: Json, after: Json, extra: string[] = []) {
  const { code, text, err } = await run([
    file('old.json', before),
    file('new.json', after),
    '--json',
    ...extra,
  ]);
  expect(err).toEqual([]);
  return { code, report: JSON.parse(text()) as Report };
}

const generated = (n: number) => generatedSubjects(n);

/** Direct evaluation: subjects per `from → to`, `before` flag under the old flags, `after` under the new. */
function directMoves(
  before: Json,
  after: Json,
  flags: [string, string],
  contexts: readonly Json[] = generated(10_000),
): Map<string, number> {
  const [a, b] = [createEvaluator(), createEvaluator()];
  a.setConfiguration(JSON.stringify(before));
  b.setConfiguration(JSON.stringify(after));
  const moves = new Map<string, number>();
  for (const context of contexts) {
    const from = a.resolveValue(flags[0], context).variant ?? '(default)';
    const to = b.resolveValue(flags[1], context).variant ?? '(default)';
    if (from !== to) moves.set(`${from} → ${to}`, (moves.get(`${from} → ${to}`) ?? 0) + 1);
  }
  return moves;
}
const movesOf = (moves: readonly Move[]) =>
  new Map(moves.map((m) => [`${m.from} → ${m.to}`, m.subjects]));

describe('rampflag diff', () => {
  it('prints its help with examples and exit codes, and exits 0', async () => {
    const { code, text } = await run(['--help']);
    expect(code).toBe(0);
    expect(text()).toMatch(/Examples:\n {2}rampflag diff flags\.old\.json flags\.json/);
    expect(text()).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*differ/);
    expect(await main(['diff', '--help'], fakeIo().io)).toBe(0);
  });

  it('moves exactly 15 % off → on for a 10 → 25 % ramp, and nobody on → off', async () => {
    const before = { flags: { checkout: boolFlag(percent(10)) } };
    const after = { flags: { checkout: boolFlag(percent(25)) } };
    const { code, report } = await diffJson(before, after);
    expect(code).toBe(1);
    const [change] = report.changed;
    expect(change?.basis).toBe('exact');
    expect(change?.moves).toHaveLength(1);
    const [move] = change?.moves ?? [];
    expect(move?.from).toBe('off');
    expect(move?.to).toBe('on');
    expect(move?.exactShare).toBeCloseTo(0.15, 9);
    // the same subjects evaluated directly, against both configurations
    const direct = directMoves(before, after, ['checkout', 'checkout']);
    expect(movesOf(change?.moves ?? [])).toEqual(direct);
    expect(direct.has('on → off')).toBe(false);
    expect(Math.abs((move?.share ?? 0) - 0.15)).toBeLessThan(4 * Math.sqrt((0.15 * 0.85) / 10_000));
    expect(report.warnings).toEqual([]);
    expect(report.rebucketing).toBe(false);
    const { text } = await run([file('old.json', before), file('new.json', after)]);
    const n = (direct.get('off → on') ?? 0).toLocaleString('en-US');
    expect(text()).toContain(
      `15.00 % of subjects move off → on (exact; ${n} of the 10,000 evaluated)`,
    );
    expect(text()).not.toMatch(/on → off|WARNING/);
  });

  it('warns that a weight shrink takes the treatment from some who had it', async () => {
    const before = { flags: { checkout: boolFlag(percent(25)) } };
    const after = { flags: { checkout: boolFlag(percent(10)) } };
    const { report } = await diffJson(before, after);
    const [warning] = report.warnings;
    expect(warning?.kind).toBe('weight-shrink');
    expect(warning?.exact).toBe(true);
    expect(warning?.lostShare).toBeCloseTo(0.15, 9);
    expect(warning?.lostOfTreated).toBeCloseTo(0.6, 9);
    expect(movesOf(report.changed[0]?.moves ?? [])).toEqual(
      directMoves(before, after, ['checkout', 'checkout']),
    );
    const { text } = await run([file('old.json', before), file('new.json', after)]);
    expect(text()).toMatch(
      /WARNING checkout: 'on' shrank from 25 % to 10 % at targeting\.fractional: 15\.00 % of subjects lose 'on', 60\.00 % of those who had it \(exact\)/,
    );
  });

  it('warns that a reordered bucket list moves most subjects', async () => {
    const before = { flags: { checkout: boolFlag(percent(50)) } };
    const after = {
      flags: {
        checkout: boolFlag({
          fractional: [
            ['off', 50],
            ['on', 50],
          ],
        }),
      },
    };
    const { report } = await diffJson(before, after);
    const [change] = report.changed;
    const exactMoved = (change?.moves ?? []).reduce((sum, m) => sum + (m.exactShare ?? 0), 0);
    expect(exactMoved).toBe(1);
    expect(movesOf(change?.moves ?? [])).toEqual(
      directMoves(before, after, ['checkout', 'checkout']),
    );
    expect(report.warnings.map((w) => [w.kind, w.lostShare])).toEqual([['reordered-buckets', 0.5]]);
    expect(report.warnings[0]?.message).toMatch(
      /the bucket list was reordered \(on, off → off, on\)/,
    );
  });

  it('warns that a changed bucketing key re-buckets, with the sample numbers', async () => {
    const contexts = Array.from({ length: 4_000 }, (_, i) => ({
      targetingKey: `u${i}`,
      email: `e${i}@x`,
    }));
    const subjects = file('users.jsonl', contexts.map((c) => JSON.stringify(c)).join('\n'));
    const before = { flags: { checkout: boolFlag(percent(50)) } };
    const after = {
      flags: { checkout: boolFlag({ fractional: [{ var: 'email' }, ['on', 50], ['off', 50]] }) },
    };
    const { report } = await diffJson(before, after, ['--subjects-file', subjects]);
    const direct = directMoves(before, after, ['checkout', 'checkout'], contexts);
    const [change] = report.changed;
    expect(change?.basis).toBe('estimated');
    expect(movesOf(change?.moves ?? [])).toEqual(direct);
    const [warning] = report.warnings;
    expect(warning?.kind).toBe('bucketing-key');
    expect(warning?.exact).toBe(false);
    const lost = direct.get('on → off') ?? 0;
    expect(warning?.lostShare).toBe(lost / 4_000);
    expect(warning?.message).toMatch(
      new RegExp(
        `the bucketing key changed \\(flagKey \\+ targetingKey → \\{"var":"email"\\}\\).*${lost.toLocaleString('en-US')} of the`,
      ),
    );
  });

  it('warns that a renamed flag with implicit bucketing re-buckets about half the treated', async () => {
    const flag = boolFlag(percent(50));
    const before = { flags: { checkout: flag } };
    const after = { flags: { 'checkout-v2': flag } };
    const { code, report } = await diffJson(before, after);
    expect(code).toBe(1);
    expect(report.added).toEqual(['checkout-v2']);
    expect(report.removed).toEqual(['checkout']);
    const [rename] = report.renamed;
    expect([rename?.from, rename?.to]).toEqual(['checkout', 'checkout-v2']);
    const direct = directMoves(before, after, ['checkout', 'checkout-v2']);
    expect(movesOf(rename?.moves ?? [])).toEqual(direct);
    const [warning] = report.warnings;
    expect(warning?.kind).toBe('renamed-flag');
    expect(warning?.lostOfTreated).toBeGreaterThan(0.45);
    expect(warning?.lostOfTreated).toBeLessThan(0.55);
    expect(warning?.message).toContain(
      '[{"cat": ["checkout", {"var": "targetingKey"}]}, …buckets]',
    );
    const { text } = await run([file('old.json', before), file('new.json', after)]);
    expect(text()).toMatch(/Renamed\? checkout → checkout-v2/);
    expect(text()).toMatch(/WARNING checkout → checkout-v2: looks like a renamed flag/);
  });

  it('does not warn for a rename that keeps the old bucketing key explicitly', async () => {
    const kept = {
      fractional: [{ cat: ['checkout', { var: 'targetingKey' }] }, ['on', 50], ['off', 50]],
    };
    const { report } = await diffJson(
      { flags: { checkout: boolFlag(percent(50)) } },
      { flags: { 'checkout-v2': boolFlag(kept) } },
    );
    expect(report.renamed[0]?.moves).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it('warns when a bucket before a treatment grows and moves its range', async () => {
    const split = (a: number, b: number) => ({
      fractional: [
        ['a', a],
        ['b', b],
        ['c', 100 - a - b],
      ],
    });
    const flag = (targeting: unknown) => ({
      state: 'ENABLED',
      variants: { a: 'A', b: 'B', c: 'C' },
      defaultVariant: 'c',
      targeting,
    });
    const { report } = await diffJson(
      { flags: { abc: flag(split(10, 10)) } },
      { flags: { abc: flag(split(20, 10)) } },
    );
    expect(report.warnings.map((w) => [w.kind, w.lostShare])).toEqual([
      ['bucket-shift', expect.closeTo(0.1, 9)],
    ]);
  });

  it('takes the rollout safe variant as the control, not a treatment', async () => {
    const meta = { metadata: { 'rollout.safeVariant': 'on' } };
    const before = { flags: { checkout: boolFlag(percent(75), meta) } };
    const after = { flags: { checkout: boolFlag(percent(25), meta) } };
    const { report } = await diffJson(before, after);
    expect(report.warnings).toEqual([]);
  });

  it('warns about a nested split as a share of the subjects it splits', async () => {
    const ringed = (on: number) => ({
      if: [{ '==': [{ var: 'ring' }, 'canary'] }, percent(on), 'off'],
    });
    const before = { flags: { checkout: boolFlag(ringed(50)) } };
    const after = { flags: { checkout: boolFlag(ringed(20)) } };
    const { report } = await diffJson(before, after, ['--context', '{"ring":"canary"}']);
    expect(report.changed[0]?.basis).toBe('estimated');
    const contexts = generated(10_000).map((c) => ({ ...c, ring: 'canary' }));
    expect(movesOf(report.changed[0]?.moves ?? [])).toEqual(
      directMoves(before, after, ['checkout', 'checkout'], contexts),
    );
    expect(report.warnings[0]?.message).toMatch(
      /30\.00 % of the subjects targeting\.if\[1\]\.fractional splits lose 'on'/,
    );
  });

  it('lists what changed: state, variants, default, targeting rules and metadata', async () => {
    const before = {
      flags: {
        banner: {
          state: 'ENABLED',
          variants: { a: 'A', b: 'B' },
          defaultVariant: 'a',
          metadata: { owner: 'web' },
        },
        retired: boolFlag(),
        gone: boolFlag(),
        same: boolFlag(percent(5)),
      },
    };
    const after = {
      flags: {
        banner: {
          state: 'ENABLED',
          variants: { a: 'A', b: 'BB', c: 'C' },
          defaultVariant: 'b',
          metadata: { owner: 'growth' },
        },
        retired: boolFlag(undefined, { state: 'DISABLED' }),
        fresh: boolFlag(),
        same: boolFlag(percent(5)),
      },
    };
    const { report } = await diffJson(before, after);
    expect(report.added).toEqual(['fresh']);
    expect(report.removed).toEqual(['gone']);
    expect(report.changed.map((c) => [c.flag, c.aspects])).toEqual([
      ['banner', ['variants', 'default', 'metadata']],
      ['retired', ['state']],
    ]);
    expect(report.changed[0]?.details).toEqual([
      `variant 'b' "B" → "BB"`,
      `variant 'c' added: "C"`,
      'defaultVariant a → b',
      `metadata 'owner' "web" → "growth"`,
    ]);
    expect(report.changed[0]?.valueChanges).toEqual([{ variant: 'b', subjects: 10_000, share: 1 }]);
    expect(report.changed[1]?.moves).toEqual([
      { from: 'off', to: '(disabled)', subjects: 10_000, share: 1 },
    ]);
    expect(report.renamed).toEqual([]); // no fractional: nothing to re-bucket
  });

  it('exits 0 with "No change." when nothing changed, and with --exit-zero when something did', async () => {
    const doc = { flags: { checkout: boolFlag(percent(10)) } };
    const yaml = `flags:\n  checkout:\n    targeting: { fractional: [[on, 10], ['off', 90]] }\n    defaultVariant: 'off'\n    variants: { 'on': true, 'off': false }\n    state: ENABLED\n`;
    const same = await run([file('old.json', doc), file('new.yaml', yaml)]);
    expect(same.code).toBe(0);
    expect(same.text()).toMatch(/No change\./);
    const changed = await run([
      file('old.json', doc),
      file('new.json', { flags: {} }),
      '--exit-zero',
    ]);
    expect(changed.code).toBe(0);
    expect(changed.text()).toMatch(/0 added, 1 removed, 0 changed/);
  });

  it('compares a server (--from, the old side) with a file', async () => {
    const before = { flags: { checkout: boolFlag(percent(10)) } };
    const after = { flags: { checkout: boolFlag(percent(25)) } };
    const server = serverOnFreePorts({ source: new FileFlagSource(file('served.json', before)) });
    const ports = await server.start();
    stops.push(() => server.stop());
    const { code, text } = await run([
      '--from',
      `grpc://127.0.0.1:${ports.syncPort}`,
      file('new.json', after),
      '--json',
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(text()) as Report;
    expect(movesOf(report.changed[0]?.moves ?? [])).toEqual(
      directMoves(before, after, ['checkout', 'checkout']),
    );
  });

  it('exits 3 when the server cannot be reached', async () => {
    const { code, err } = await run([
      '--from',
      `grpc://127.0.0.1:${await freePort()}`,
      file('new.json', { flags: {} }),
    ]);
    expect(code).toBe(3);
    expect(err.join()).toMatch(/^rampflag diff: /);
  });

  it.each([
    [['one.json'], /give an old and a new flag file/],
    [['a.json', 'b.json', 'c.json'], /give an old and a new flag file/],
    [
      ['--from', 'grpc://localhost:8015', 'a.json', 'b.json'],
      /give one flag file \(the new\) with --from/,
    ],
    [['a.json', 'b.json', '--subjects', '-3'], /--subjects/],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('exits 2 naming a file that cannot be read or is invalid', async () => {
    const good = file('good.json', { flags: {} });
    const missing = await run([join(dir, 'missing.json'), good]);
    expect(missing.code).toBe(2);
    expect(missing.err.join()).toMatch(/cannot read \S+missing\.json: ENOENT/);
    const invalid = file('bad.json', {
      flags: { x: { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'b' } },
    });
    const bad = await run([good, invalid]);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(
      /bad\.json is not a valid flag configuration:\n {2}\S+bad\.json:\d+:\d+: flags\.x\.defaultVariant: /,
    );
  });

  it('exits 2 for a file whose flags are not an object, though merging would drop them', async () => {
    const good = file('good.json', { flags: {} });
    for (const flags of [3, 'x', null]) {
      const bad = await run([file('shapeless.json', { flags }), good]);
      expect(bad.code).toBe(2);
      expect(bad.err.join('\n')).toMatch(
        /shapeless\.json:\d+:\d+: flags: "flags" must be an object/,
      );
    }
  });

  it('prints the WARNING in colour on a terminal', async () => {
    vi.stubEnv('NO_COLOR', '');
    vi.stubEnv('FORCE_COLOR', '1');
    const before = file('old.json', { flags: { checkout: boolFlag(percent(25)) } });
    const after = file('new.json', { flags: { checkout: boolFlag(percent(10)) } });
    const { text } = await run([before, after], true);
    expect(text()).toContain('\u001b[31mWARNING');
  });
});
