import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EvaluationContext } from '@openfeature/core';
import { FileFlagSource } from 'rampflag';
import { createEvaluator } from 'rampflag/evaluator';
import { main } from '../../src/cli/main.js';
import { verify } from '../../src/cli/verify.js';
import { parseExpectation } from '../../src/cli/verify-options.js';
import { parseReplicaList } from '../../src/cli/verify-replicas.js';
import { defaultTolerance, summarize } from '../../src/cli/verify-summary.js';
import { fakeIo } from '../support/cli-io.js';
import { freePort } from '../support/ports.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';
import { servePortArgs, startServe, stopProcess } from '../support/serve-process.js';
import { serverOnFreePorts } from '../support/test-server.js';

const { file } = scratchDir('cli-verify');
const stops = stopsAfterEach();

/** The flags every replica serves, with the checkout flag's share of "on" in per mille. */
function flags(onPerMille: number) {
  return `${JSON.stringify(
    {
      flags: {
        checkout: {
          state: 'ENABLED',
          variants: { on: true, off: false },
          defaultVariant: 'off',
          targeting: {
            if: [
              { in: [{ var: 'ring' }, ['internal']] },
              'on',
              {
                fractional: [
                  { var: 'targetingKey' },
                  ['on', onPerMille],
                  ['off', 1000 - onPerMille],
                ],
              },
            ],
          },
        },
        banner: {
          state: 'ENABLED',
          variants: { red: 'R', blue: 'B', green: 'G' },
          defaultVariant: 'red',
          targeting: {
            fractional: [
              ['red', 1],
              ['blue', 1],
              ['green', 1],
            ],
          },
        },
        retired: { state: 'DISABLED', variants: { on: true }, defaultVariant: 'on' },
      },
    },
    null,
    2,
  )}\n`;
}
const FRESH = flags(250);
const STALE = flags(100);

/** A FlagServer on free ports serving `text` from its own file; the file and its base URLs. */
async function replica(text: string) {
  const path = file('replica.json', text);
  const server = serverOnFreePorts({ source: new FileFlagSource(path, { pollIntervalMs: 100 }) });
  const ports = await server.start();
  stops.push(() => server.stop());
  return {
    path,
    evaluation: `http://127.0.0.1:${ports.httpPort}`,
    ofrep: `http://127.0.0.1:${ports.ofrepPort}`,
  };
}

/** Three replicas, the third serving a stale file; a replicas file (with comments) listing them. */
async function replicas() {
  const all = [await replica(FRESH), await replica(FRESH), await replica(STALE)];
  const list = file(
    'replicas.txt',
    `# production replicas\n${all[0]?.evaluation}\n\n${all[1]?.evaluation}  # zone b\n${all[2]?.evaluation}\n`,
  );
  return { all, list, stale: all[2] as Awaited<ReturnType<typeof replica>> };
}

/** 2,000 subjects, some in the internal ring; written one context a line. */
const CONTEXTS: EvaluationContext[] = Array.from({ length: 2000 }, (_, i) => ({
  targetingKey: `customer-${i}`,
  ...(i % 50 === 0 ? { ring: 'internal' } : {}),
}));
const SUBJECTS = file('contexts.jsonl', `${CONTEXTS.map((c) => JSON.stringify(c)).join('\n')}\n`);

/** Each context's variant of `flag` under `config`, evaluated here. */
function direct(config: string, flag: string, contexts: readonly EvaluationContext[]) {
  const evaluator = createEvaluator();
  evaluator.setConfiguration(config);
  return contexts.map((c) => evaluator.resolveValue(flag, c).variant ?? '(none)');
}
function countsOf(variants: readonly string[]) {
  const counts: Record<string, number> = {};
  for (const v of variants) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

type Report = {
  verdict: string;
  consistent: boolean;
  subjects: number;
  checks: number;
  differing: number;
  replicas: {
    url: string;
    protocol: string;
    reachable: boolean;
    error?: string;
    variants: Record<string, { count: number; share: number }>;
    disagreements: number;
  }[];
  examples: { subject: string; variants: Record<string, string> }[];
  expect: { variant: string; met: boolean; shares: Record<string, number> }[];
};

async function run(args: string[], extra: Parameters<typeof fakeIo>[0] = {}) {
  const io = fakeIo(extra);
  const code = await verify(args, io.io);
  return { code, ...io, json: () => JSON.parse(io.text()) as Report };
}

describe('rampflag verify', () => {
  it('names the stale replica and the subjects it resolves differently, counts as direct evaluation', async () => {
    const { all, list, stale } = await replicas();
    const fresh = direct(FRESH, 'checkout', CONTEXTS);
    const old = direct(STALE, 'checkout', CONTEXTS);
    const differ = CONTEXTS.flatMap((c, i) =>
      fresh[i] !== old[i] ? [String(c.targetingKey)] : [],
    );
    expect(differ.length).toBeGreaterThan(100); // 25 % against 10 %: about 15 % of them

    const { code, json } = await run([
      'checkout',
      '--replicas',
      list,
      '--subjects-file',
      SUBJECTS,
      '--json',
    ]);
    expect(code).toBe(1);
    const report = json();
    expect(report.verdict).toBe('inconsistent');
    expect(report.subjects).toBe(2000);
    expect(report.differing).toBe(differ.length);
    const count = (counts: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(counts).map(([v, n]) => [v, { count: n, share: (n / 2000) * 100 }]),
      );
    expect(report.replicas).toEqual([
      {
        url: all[0]?.evaluation,
        protocol: 'evaluation',
        reachable: true,
        variants: count(countsOf(fresh)),
        disagreements: 0,
      },
      {
        url: all[1]?.evaluation,
        protocol: 'evaluation',
        reachable: true,
        variants: count(countsOf(fresh)),
        disagreements: 0,
      },
      {
        url: stale.evaluation,
        protocol: 'evaluation',
        reachable: true,
        variants: count(countsOf(old)),
        disagreements: differ.length,
      },
    ]);
    expect(report.examples.map((e) => e.subject)).toEqual(differ.slice(0, 10));
    for (const example of report.examples) {
      const i = CONTEXTS.findIndex((c) => c.targetingKey === example.subject);
      expect(example.variants).toEqual({
        [all[0]?.evaluation as string]: fresh[i],
        [all[1]?.evaluation as string]: fresh[i],
        [stale.evaluation]: old[i],
      });
      expect([fresh[i], old[i]]).toEqual(['on', 'off']); // stickiness: the stale one takes "on" away
    }
  });

  it('prints the same for people: shares per replica, the first differing subjects, the verdict', async () => {
    const { list, stale } = await replicas();
    const fresh = direct(FRESH, 'checkout', CONTEXTS);
    const old = direct(STALE, 'checkout', CONTEXTS);
    const differ = CONTEXTS.flatMap((c, i) =>
      fresh[i] !== old[i] ? [String(c.targetingKey)] : [],
    );
    const on = countsOf(fresh)['on'] as number;
    const { code, text } = await run([
      'checkout',
      '--replicas',
      list,
      '--subjects-file',
      SUBJECTS,
      '--show',
      '3',
    ]);
    expect(code).toBe(1);
    expect(text()).toMatch(
      /^verify checkout: 2,000 subjects on 3 replicas\nREPLICA\s+PROTOCOL\s+off\s+on\s+DIFFERS\n/,
    );
    expect(text()).toContain(`${on.toLocaleString('en-US')} (${((on / 2000) * 100).toFixed(1)} %)`);
    expect(text()).toMatch(
      new RegExp(`${stale.evaluation}\\s+evaluation\\s+.*\\s${differ.length}\\n`),
    );
    expect(text()).toContain(
      `${differ.length} of 2,000 subjects (${((differ.length / 2000) * 100).toFixed(1)} %) resolve differently between replicas`,
    );
    expect(text()).toMatch(
      new RegExp(
        `\\n${differ[0]}\\s+on\\s+on\\s+off\\n${differ[1]}\\s+on\\s+on\\s+off\\n${differ[2]}\\s+on\\s+on\\s+off\\n`,
      ),
    );
    expect(text()).toContain(
      `inconsistent: ${stale.evaluation} disagrees with the others on ${differ.length} subjects`,
    );
  });

  it('--until-consistent checks again until the stale file is updated, and says how long it took', async () => {
    const { list, stale } = await replicas();
    const running = run([
      'checkout',
      '--replicas',
      list,
      '--subjects',
      '300',
      '--until-consistent',
      '--timeout',
      '20s',
      '--interval',
      '100ms',
    ]);
    await new Promise((done) => setTimeout(done, 400));
    writeFileSync(stale.path, FRESH);
    const { code, text, err } = await running;
    expect(err.join('\n')).toMatch(
      /^rampflag verify: check 1 at \d+\.\d s: \d+ subjects differ between replicas; checking again in 0\.1 s/,
    );
    expect(text()).toMatch(
      /consistent: the 3 replicas give each of the 300 subjects the same variant\nconsistent after \d+\.\d s \((\d+) checks\)$/,
    );
    expect(Number(/\((\d+) checks\)/.exec(text())?.[1])).toBeGreaterThan(1);
    expect(code).toBe(0);
  });

  it('--until-consistent gives up at --timeout with exit 1', async () => {
    const { list } = await replicas();
    const { code, text } = await run([
      'checkout',
      '--replicas',
      list,
      '--subjects',
      '100',
      '--until-consistent',
      '--timeout',
      '300ms',
      '--interval',
      '100ms',
    ]);
    expect(code).toBe(1);
    expect(text()).toMatch(/still not consistent after \d+\.\d s \(\d+ checks\)$/);
  });

  it('--expect checks the share of a variant on every replica against direct evaluation', async () => {
    const all = [await replica(FRESH), await replica(FRESH), await replica(FRESH)];
    const urls = all.flatMap((r) => ['--replica', r.evaluation]);
    const on = countsOf(direct(FRESH, 'checkout', CONTEXTS))['on'] as number;
    const share = (on / 2000) * 100;
    const met = await run([
      'checkout',
      ...urls,
      '--subjects-file',
      SUBJECTS,
      '--expect',
      'on=25',
      '--json',
    ]);
    expect(met.code).toBe(0);
    expect(met.json().expect).toEqual([
      {
        variant: 'on',
        percent: 25,
        tolerance: expect.closeTo(3.29 * Math.sqrt((0.25 * 0.75) / 2000) * 100, 6),
        met: true,
        shares: Object.fromEntries(all.map((r) => [r.evaluation, share])),
      },
    ]);
    const unmet = await run([
      'checkout',
      ...urls,
      '--subjects-file',
      SUBJECTS,
      '--expect',
      'on=50%',
      '--timeout',
      '0',
    ]);
    expect(unmet.code).toBe(1);
    expect(unmet.text()).toContain(
      `expect on = 50 % (± 3.68 points): not met: ${all[0]?.evaluation} has ${share.toFixed(1)} %`,
    );
  });

  it('asks over OFREP (--protocol, or an ofrep+ URL) with the same counts', async () => {
    const all = [await replica(FRESH), await replica(FRESH), await replica(STALE)];
    const args = [
      '--replica',
      all[0]?.ofrep,
      '--replica',
      all[1]?.ofrep,
      '--replica',
      `ofrep+${all[2]?.ofrep}`,
    ] as string[];
    const fresh = direct(FRESH, 'checkout', CONTEXTS);
    const old = direct(STALE, 'checkout', CONTEXTS);
    const differ = fresh.filter((v, i) => v !== old[i]).length;
    const viaOfrep = await run([
      'checkout',
      ...args,
      '--protocol',
      'ofrep',
      '--subjects-file',
      SUBJECTS,
      '--json',
    ]);
    expect(viaOfrep.code).toBe(1);
    const report = viaOfrep.json();
    expect(report.replicas.map((r) => [r.protocol, r.disagreements])).toEqual([
      ['ofrep', 0],
      ['ofrep', 0],
      ['ofrep', differ],
    ]);
    expect(report.replicas[2]?.variants['on']?.count).toBe(countsOf(old)['on']);
    // mixed: the evaluation API for two, OFREP for the stale one
    const mixed = await run([
      'checkout',
      '--replica',
      all[0]?.evaluation as string,
      '--replica',
      all[1]?.evaluation as string,
      '--replica',
      `ofrep+${all[2]?.ofrep}`,
      '--subjects-file',
      SUBJECTS,
      '--json',
    ]);
    expect(mixed.json().differing).toBe(differ);
  });

  it('evaluates string flags typed, and a disabled flag as (none) everywhere', async () => {
    const { all } = await replicas();
    const urls = all.flatMap((r) => ['--replica', r.evaluation]);
    const banner = await run(['banner', ...urls, '--subjects-file', SUBJECTS, '--json']);
    expect(banner.code).toBe(0);
    const counts = countsOf(direct(FRESH, 'banner', CONTEXTS));
    expect(
      Object.fromEntries(
        Object.entries(banner.json().replicas[2]?.variants ?? {}).map(([v, c]) => [v, c.count]),
      ),
    ).toEqual(counts);
    for (const [flag, protocol] of [
      ['retired', 'evaluation'],
      ['nope', 'evaluation'],
      ['retired', 'ofrep'],
      ['nope', 'ofrep'],
    ]) {
      const ofrep = all.flatMap((r) => [
        '--replica',
        protocol === 'ofrep' ? r.ofrep : r.evaluation,
      ]);
      const args = [flag as string, ...ofrep, '--protocol', protocol as string];
      const { code, json } = await run([...args, '--subjects', '20', '--json']);
      expect(code).toBe(0);
      expect(json().replicas[0]?.variants).toEqual({ '(none)': { count: 20, share: 100 } });
    }
  });

  it('names the stale one of three `rampflag serve` child processes, as direct evaluation does', async () => {
    const children = await Promise.all(
      [FRESH, FRESH, STALE].map((text) =>
        startServe([file('flags.json', text), ...servePortArgs()]),
      ),
    );
    for (const { child } of children) stops.push(() => stopProcess(child));
    const urls = children.map(({ ports }) => `http://127.0.0.1:${ports.ofrep}`);
    const contexts = CONTEXTS.slice(0, 500);
    const differ = direct(FRESH, 'checkout', contexts).filter(
      (v, i) => v !== direct(STALE, 'checkout', contexts)[i],
    ).length;
    const subjects = file('some.jsonl', contexts.map((c) => JSON.stringify(c)).join('\n'));
    const args = urls.flatMap((url) => ['--replica', url]);
    const { code, json } = await run([
      'checkout',
      ...args,
      '--protocol',
      'ofrep',
      '--subjects-file',
      subjects,
      '--json',
    ]);
    expect(code).toBe(1);
    expect(json().replicas.map((r) => [r.url, r.disagreements])).toEqual([
      [urls[0], 0],
      [urls[1], 0],
      [urls[2], differ],
    ]);
  });

  it('stops when its signal aborts, exit 130', async () => {
    const { list } = await replicas();
    const { io, err, stop } = fakeIo();
    const running = verify(
      [
        'checkout',
        '--replicas',
        list,
        '--subjects',
        '100',
        '--until-consistent',
        '--interval',
        '50ms',
      ],
      io,
    );
    setTimeout(stop, 300);
    expect(await running).toBe(130);
    expect(err.at(-1)).toBe('rampflag verify: interrupted');
  });

  it('exits 3 naming a replica that cannot be reached', async () => {
    const { list } = await replicas();
    const down = `http://127.0.0.1:${await freePort()}`;
    const args = ['checkout', '--replicas', list, '--replica', down, '--subjects', '50'];
    const { code, text } = await run(args);
    expect(code).toBe(3);
    expect(text()).toMatch(new RegExp(`${down}\\s+evaluation\\s+unreachable`));
    expect(text()).toMatch(
      new RegExp(`unreachable: ${down}/flagd\\.evaluation\\.v1\\.Service/ResolveAll: ECONNREFUSED`),
    );
    const asJson = await run([...args, '--json']);
    expect(asJson.code).toBe(3);
    expect(asJson.json().replicas[3]).toMatchObject({ url: down, reachable: false });
  });

  it('generates user-1 … user-N over --context, as direct evaluation of those subjects gives', async () => {
    const { all } = await replicas();
    const contexts = Array.from({ length: 400 }, (_, i) => ({
      ring: 'external',
      targetingKey: `user-${i + 1}`,
    }));
    const inRing = (ring: string) =>
      run([
        'checkout',
        ...['--replica', all[2]?.evaluation as string, '--subjects', '400'],
        ...['--context', JSON.stringify({ ring }), '--json'],
      ]);
    const { json } = await inRing('external');
    const counts = countsOf(direct(STALE, 'checkout', contexts));
    expect(json().replicas[0]?.variants['on']?.count).toBe(counts['on']);
    const internal = await inRing('internal');
    expect(internal.json().replicas[0]?.variants).toEqual({ on: { count: 400, share: 100 } });
  });

  it('draws a progress bar on a terminal', async () => {
    const { all } = await replicas();
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    let drawn = '';
    stream.on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    const { code } = await run(
      ['checkout', '--replica', all[0]?.evaluation as string, '--subjects', '200'],
      { tty: true, progress: stream },
    );
    expect(code).toBe(0);
    expect(drawn).toMatch(/check 1 \[/);
  });

  it.each([
    [[], /missing required argument 'flag'/],
    [['checkout'], /name the replicas: --replicas <file> or --replica <url>/],
    [['checkout', '--replica', 'localhost:8013'], /--replica: "localhost:8013" is not an http/],
    [
      ['checkout', '--replica', 'http://a:8013', '--protocol', 'grpc'],
      /--protocol: "grpc" is not evaluation or ofrep/,
    ],
    [
      ['checkout', '--replica', 'http://a:8013', '--expect', 'on'],
      /--expect: "on" is not <variant>=<percent>/,
    ],
    [
      ['checkout', '--replica', 'http://a:8013', '--expect', 'on=120'],
      /is not <variant>=<percent>/,
    ],
    [
      ['checkout', '--replica', 'http://a:8013', '--subjects', '0'],
      /--subjects: "0" is not a whole number/,
    ],
    [
      ['checkout', '--replica', 'http://a:8013', '--context', '[1]'],
      /--context: a context is a JSON object/,
    ],
    [
      ['checkout', '--replica', 'http://a:8013', '--timeout', 'soon'],
      /--timeout: "soon" is not a duration/,
    ],
    [
      ['checkout', '--replica', 'http://a:8013', '--subjects', '5', '--subjects-file', 'x'],
      /not both/,
    ],
    [
      ['checkout', '--replicas', '/nonexistent/replicas.txt'],
      /cannot read \/nonexistent\/replicas\.txt: ENOENT/,
    ],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const { code, err } = await run(args as string[]);
    expect(err.join('\n')).toMatch(message);
    expect(code).toBe(2);
  });

  it('exits 2 naming the file and line of a bad replica or subject', async () => {
    const list = file('replicas.txt', 'http://a:8013\nftp://b\n');
    expect((await run(['checkout', '--replicas', list])).err.join()).toContain(
      `${list}:2: "ftp://b" is not an http:// or https:// base URL`,
    );
    const subjects = file('subjects.jsonl', '{"targetingKey":"a"}\n{"targetingKey":\n');
    const bad = await run(['checkout', '--replica', 'http://a:8013', '--subjects-file', subjects]);
    expect(bad.code).toBe(2);
    expect(bad.err.join()).toContain(`${subjects}:2: `);
  });

  it('prints help with examples and exit codes, exit 0, through rampflag verify --help', async () => {
    const { io, text } = fakeIo();
    expect(await main(['verify', '--help'], io)).toBe(0);
    expect(text()).toMatch(
      /^Usage: rampflag verify <flag> \(--replicas <file> \| --replica <url>\.\.\.\)/,
    );
    expect(text()).toMatch(/Examples:[\s\S]*Exit codes:[\s\S]*3 {2}a replica cannot be reached/);
  });
});

describe('verify, its parts', () => {
  const replica = (url: string) => ({ url, protocol: 'evaluation' as const });

  it('counts every replica as disagreeing when there is no majority (two replicas)', () => {
    const summary = summarize(
      [
        { replica: replica('http://a'), outcomes: ['on', 'off', 'on'] },
        { replica: replica('http://b'), outcomes: ['on', 'on', 'on'] },
      ],
      3,
      10,
    );
    expect(summary.differing).toBe(1);
    expect(summary.replicas.map((r) => r.disagreements)).toEqual([1, 1]);
    expect(summary.examples).toEqual([{ subject: 1, outcomes: ['off', 'on'] }]);
    expect(summary.variants).toEqual(['on', 'off']);
  });

  it('leaves a replica that failed out of the comparison', () => {
    const summary = summarize(
      [
        { replica: replica('http://a'), outcomes: ['on', 'off'] },
        { replica: replica('http://b'), outcomes: ['off', undefined], failure: 'ECONNRESET' },
      ],
      2,
      10,
    );
    expect([summary.differing, summary.unreachable]).toEqual([0, 1]);
    expect(summary.replicas[1]?.counts.size).toBe(0);
  });

  it('reads a replicas file: comments, blank lines, protocol prefixes, line by line', () => {
    const text = '# prod\nhttp://a:8013/\n\n  ofrep+http://b:8016 # zone b\nhttp://a:8013\n';
    expect(parseReplicaList(text, 'r.txt', 'evaluation')).toEqual([
      { url: 'http://a:8013', protocol: 'evaluation' },
      { url: 'http://b:8016', protocol: 'ofrep' },
      { url: 'http://a:8013', protocol: 'evaluation' },
    ]);
  });

  it.each([
    ['on=25', { variant: 'on', percent: 25 }],
    ['on=12.5%', { variant: 'on', percent: 12.5 }],
    ['a=b=100 %', { variant: 'a=b', percent: 100 }],
  ])('reads --expect %s', (text, expected) => {
    expect(parseExpectation(text)).toEqual(expected);
  });

  it('takes the default tolerance from the binomial spread: 0 at 0 % and 100 %', () => {
    expect(defaultTolerance(50, 10_000)).toBeCloseTo(1.645, 3);
    expect([defaultTolerance(0, 100), defaultTolerance(100, 100)]).toEqual([0, 0]);
  });
});
