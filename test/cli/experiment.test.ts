import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experiment } from '../../src/cli/experiment.js';
import { main } from '../../src/cli/main.js';
import { analyzeExperiment } from '../../src/experiment/analyze.js';
import { fromCountsFile } from '../../src/experiment/counts-file.js';
import { planExperiment } from '../../src/experiment/plan.js';
import { fakeIo } from '../support/cli-io.js';
import { fakeExperimentPrometheus } from '../support/fake-experiment-prometheus.js';
import { freePort } from '../support/ports.js';
import { scratchDir, stopsAfterEach } from '../support/scratch.js';

const { dir, file } = scratchDir('cli-experiment');
const stops = stopsAfterEach();

const csv = [
  'metric,variant,users,conversions',
  'purchase,off,10000,1000',
  'purchase,on,10000,1200',
  'purchase,b,10000,1030',
  'signup,off,10000,400',
  'signup,on,10000,410',
  'signup,b,10000,395',
].join('\n');

const run = async (...args: string[]) => {
  const fake = fakeIo();
  const code = await experiment(args, fake.io);
  return { code, ...fake };
};

describe('rampflag experiment analyze --counts', () => {
  it('prints a table per metric, the SRM check and the verdicts, with the numbers of analyzeExperiment', async () => {
    const path = file('counts.csv', csv);
    const { code, text, err } = await run('analyze', '--counts', path, '--control', 'off');
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const analysis = analyzeExperiment(fromCountsFile(csv, { control: 'off' }));
    const out = text();
    expect(out).toMatch(
      /^experiment: 3 variants \(control off\), 2 metrics, 95 % intervals, anytime-valid/,
    );
    expect(out).toContain(
      'Users: off 10,000 · on 10,000 · b 10,000 (expected 33.3 % / 33.3 % / 33.3 %); SRM χ² = 0.00, p = 1.00: no mismatch',
    );
    expect(out).toMatch(
      /\npurchase \(conversion rate\)\nvariant +users +conversions +rate \(95 % CI\) +absolute lift +relative lift +anytime-valid +p \(z\) +seq\. p +Holm p\n/,
    );
    expect(out).toMatch(/\noff \(control\) +10,000 +1,000 +10\.00 % \(9\.43 … 10\.60\)\n/);
    const on = analysis.comparisons[0];
    const seq = on?.sequential?.relative;
    const pct = (v: number) => `${v < 0 ? '−' : '+'}${Math.abs(v * 100).toFixed(1)}`;
    expect(out).toContain(
      `${pct(seq?.estimate ?? 0)} % (${pct(seq?.low ?? 0)} … ${pct(seq?.high ?? 0)})`,
    );
    for (const comparison of analysis.comparisons) expect(out).toContain(`  ${comparison.verdict}`);
  });

  it('prints the analysis as JSON with --json (±∞ as null)', async () => {
    const path = file('counts.csv', csv);
    const { code, text } = await run(
      'analyze',
      '--counts',
      path,
      '--json',
      '--alpha',
      '0.1',
      '--tau',
      '10%',
    );
    expect(code).toBe(0);
    const json = JSON.parse(text()) as {
      alpha: number;
      tau: number;
      comparisons: unknown[];
      control: string;
    };
    const expected = analyzeExperiment(fromCountsFile(csv), { alpha: 0.1, tau: 0.1 });
    expect(json).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(json.control).toBe('off'); // the first variant listed
    expect(json.comparisons).toHaveLength(4);
  });

  it('analyses only the metrics asked for, decides on the fixed-horizon test with --fixed', async () => {
    const path = file('counts.csv', csv);
    const { code, text } = await run(
      'analyze',
      '--counts',
      path,
      '--metric',
      'signup',
      '--fixed',
      '--json',
    );
    expect(code).toBe(0);
    const json = JSON.parse(text()) as { sequential: boolean; metrics: { metric: string }[] };
    expect(json.sequential).toBe(false);
    expect(json.metrics.map((m) => m.metric)).toEqual(['signup']);
    const unknown = await run('analyze', '--counts', path, '--metric', 'refund');
    expect(unknown.code).toBe(2);
    expect(unknown.err[0]).toBe(
      'rampflag experiment analyze: no metric "refund" (metrics: purchase, signup)',
    );
  });

  it('exits 1 on a sample ratio mismatch with --fail-on-srm, 0 without, and says so either way', async () => {
    const path = file(
      'srm.csv',
      'metric,variant,users,conversions\npurchase,off,10000,1000\npurchase,on,9500,1000\n',
    );
    const plain = await run('analyze', '--counts', path);
    expect(plain.code).toBe(0);
    expect(plain.text()).toMatch(/SRM χ² = 12\.82, p = 0\.00034: SAMPLE RATIO MISMATCH/);
    expect(plain.text()).toMatch(
      /\nWarnings:\n {2}! Sample ratio mismatch: users off 10,000 \/ on 9,500/,
    );
    expect((await run('analyze', '--counts', path, '--fail-on-srm')).code).toBe(1);
    expect(
      (await run('analyze', '--counts', path, '--fail-on-srm', '--shares', 'off=51.3,on=48.7'))
        .code,
    ).toBe(0);
  });

  it('takes --shares for variants of any name, __proto__ and constructor included', async () => {
    const path = file(
      'odd-names.csv',
      'metric,variant,users,conversions\npurchase,__proto__,10000,1000\npurchase,constructor,9000,900\n',
    );
    const { code, text } = await run(
      'analyze',
      '--counts',
      path,
      '--shares',
      '__proto__=10,constructor=9',
      '--json',
    );
    expect(code).toBe(0);
    const srm = (
      JSON.parse(text()) as { srm: { expected: Record<string, number>; pValue: number } }
    ).srm;
    expect(Object.entries(srm.expected)).toEqual([
      ['__proto__', 10 / 19],
      ['constructor', 9 / 19],
    ]);
    expect(srm.pValue).toBeCloseTo(1, 9);
  });

  it("writes the chart of the lift over time with --chart, from the counts file's series", async () => {
    const series = [1, 2, 3, 4].map((d) => ({
      time: `2026-03-0${d}T00:00:00Z`,
      metrics: [
        {
          metric: 'purchase',
          kind: 'conversion',
          variants: [
            { variant: 'off', users: 2_500 * d, conversions: 250 * d },
            { variant: 'on', users: 2_500 * d, conversions: 300 * d },
          ],
        },
      ],
    }));
    const path = file('counts.json', {
      flag: 'checkout',
      control: 'off',
      metrics: series[3]?.metrics,
      series,
    });
    const svg = join(dir, 'lift.svg');
    const { code, text } = await run('analyze', '--counts', path, '--chart', svg);
    expect(code).toBe(0);
    expect(text()).toContain(`Chart of the relative lift over time: ${svg}`);
    expect(readFileSync(svg, 'utf8')).toMatch(
      /^<svg [^]*checkout: purchase, relative lift over time[^]*<\/svg>\n$/,
    );
    const none = await run('analyze', '--counts', file('counts.csv', csv), '--chart', svg);
    expect(none.code).toBe(2);
    expect(none.err[0]).toMatch(/--chart needs counts over time/);
  });

  it.each([
    [['analyze'], /give --counts <file> or --prometheus <url>, one of the two/],
    [['analyze', '--counts', 'x.csv', '--prometheus', 'http://p'], /one of the two/],
    [
      ['analyze', '--counts', '/nonexistent/counts.csv'],
      /^rampflag experiment analyze: \/nonexistent\/counts\.csv: ENOENT/,
    ],
    [
      ['analyze', '--counts', 'BAD', '--alpha', '2'],
      /--alpha: "2" is not a number above 0 under 1/,
    ],
    [
      ['analyze', '--counts', 'BAD', '--tau', '5'],
      /--tau: "5" is ambiguous: write 5% or a fraction under 1/,
    ],
    [['analyze', '--counts', 'BAD', '--shares', 'on'], /--shares: "on" is not variant=weight/],
    [
      ['analyze', '--counts', 'BAD', '--control', 'zz'],
      /metric "purchase" has no counts for the control "zz"/,
    ],
    [
      ['analyze', '--prometheus', 'http://127.0.0.1:1'],
      /--prometheus needs --flag <key> and --control <variant>/,
    ],
    [
      [
        'analyze',
        '--prometheus',
        'http://127.0.0.1:1',
        '--flag',
        'f',
        '--control',
        'off',
        '--chart',
        'x.svg',
      ],
      /--chart with --prometheus needs --since/,
    ],
    [['analyze', '--counts', 'BAD', 'extra'], /too many arguments/],
    [['frobnicate'], /unknown command "frobnicate" \(analyze or plan/],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const path = file('counts.csv', csv);
    const { code, err } = await run(...args.map((a) => (a === 'BAD' ? path : a)));
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it.runIf(existsSync('/dev/zero'))(
    'reads no more than 10 MiB of a counts file that is no regular file (a pipe, /dev/zero)',
    async () => {
      const { code, err } = await run('analyze', '--counts', '/dev/zero');
      expect(code).toBe(2);
      expect(err).toEqual(['rampflag experiment analyze: /dev/zero: larger than 10 MiB']);
    },
  );

  it('names the line and field of a bad row, and exits 2', async () => {
    const path = file(
      'bad.csv',
      'metric,variant,users,conversions\npurchase,off,10,1\npurchase,on,ten,2\n',
    );
    const { code, err } = await run('analyze', '--counts', path);
    expect(code).toBe(2);
    expect(err).toEqual([
      `rampflag experiment analyze: ${path}: line 3, field users: "ten" is not a number`,
    ]);
  });
});

describe("the README's Experiments example", () => {
  it('runs as shown: the counts file it shows, analysed, print what it shows', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Experiments'));
    const block =
      /```\n\$ cat checkout\.csv\n([^$]*)\$ rampflag experiment (analyze [^\n]*)\n([^`]*)```/.exec(
        section,
      );
    expect(block).not.toBeNull();
    const [, counts, command, shown] = block as unknown as [string, string, string, string];
    const path = file('checkout.csv', counts);
    const args = command.split(' ').map((a) => (a === 'checkout.csv' ? path : a));
    const { code, text } = await run(...args);
    expect(code).toBe(0);
    expect(text()).toBe(shown.trimEnd());
  });
});

describe('rampflag experiment analyze --prometheus', () => {
  const t0 = Date.UTC(2026, 2, 1) / 1000;
  const grow = (per: number) => [0, 1, 2].map((d) => [t0 + d * 86_400, per * d] as const);
  const counters = {
    flag: 'checkout',
    exposures: [
      { variant: 'off', values: grow(5_000) },
      { variant: 'on', values: grow(5_000) },
    ],
    conversions: [
      { variant: 'off', event: 'purchase', values: grow(500) },
      { variant: 'on', event: 'purchase', values: grow(600) },
    ],
  };

  it("reads the experiment's counters, with the series for --chart", async () => {
    const prometheus = await fakeExperimentPrometheus(counters);
    stops.push(prometheus.close);
    const svg = join(dir, 'prometheus.svg');
    const args = ['--prometheus', prometheus.url, '--flag', 'checkout', '--control', 'off'];
    const { code, text, err } = await run(
      'analyze',
      ...args,
      '--since',
      '2026-03-01T00:00:00Z',
      '--at',
      '2026-03-03T00:00:00Z',
      '--chart',
      svg,
      '--json',
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(text()) as {
      srm: { observed: unknown };
      timeline: unknown[];
      comparisons: { verdict: string }[];
    };
    expect(json.srm.observed).toEqual({ off: 10_000, on: 10_000 });
    expect(json.timeline.length).toBeGreaterThan(2);
    expect(json.comparisons[0]?.verdict).toMatch(/^on better than off on purchase: \+20\.0 %/);
    expect(readFileSync(svg, 'utf8')).toContain('on vs control');
  });

  it('exits 3 when Prometheus cannot be reached or refuses the query', async () => {
    const port = await freePort();
    const down = await run(
      'analyze',
      '--prometheus',
      `http://127.0.0.1:${port}`,
      '--flag',
      'checkout',
      '--control',
      'off',
    );
    expect(down.code).toBe(3);
    expect(down.err[0]).toMatch(
      /^rampflag experiment analyze: Prometheus at http:\/\/127\.0\.0\.1:\d+ cannot be reached/,
    );
    const refusing = await fakeExperimentPrometheus(counters, true);
    stops.push(refusing.close);
    const refused = await run(
      'analyze',
      '--prometheus',
      refusing.url,
      '--flag',
      'checkout',
      '--control',
      'off',
    );
    expect(refused.code).toBe(3);
  });

  it('exits 2 when Prometheus has no exposures for the flag', async () => {
    const prometheus = await fakeExperimentPrometheus(counters);
    stops.push(prometheus.close);
    const { code, err } = await run(
      'analyze',
      '--prometheus',
      prometheus.url,
      '--flag',
      'other',
      '--control',
      'off',
    );
    expect(code).toBe(2);
    expect(err[0]).toMatch(/has no feature_flag_experiment_exposures_total for flag "other"/);
  });
});

describe('rampflag experiment plan', () => {
  it('says the users per variant and the days, for the fixed-horizon and the anytime-valid analysis', async () => {
    const { code, out } = await run(
      'plan',
      '--baseline',
      '3%',
      '--lift',
      '5%',
      '--users-per-day',
      '20000',
    );
    expect(code).toBe(0);
    const plan = planExperiment({ baseline: 0.03, relativeLift: 0.05, usersPerDay: 20_000 });
    const n = (v: number) => v.toLocaleString('en-US');
    expect(out).toEqual([
      'To detect a 5 % relative lift on a 3 % baseline (3 % → 3.15 %) at 80 % power, α = 0.05, two-sided:',
      `  fixed horizon (read once, at the end): ${n(plan.perVariant)} users per variant, ${n(2 * plan.perVariant)} in all: ${plan.days} days at 20,000 users a day`,
      `  anytime-valid (read every day, τ = 5 %): ${n(plan.sequential?.perVariant ?? 0)} users per variant: ${plan.sequential?.days} days, often fewer (it stops as soon as the effect shows)`,
      '  analyse with: rampflag experiment analyze … --tau 5%',
    ]);
    expect(plan.perVariant).toBeGreaterThan(200_000);
    expect(plan.perVariant).toBeLessThan(215_000);
    expect(plan.days).toBe(Math.ceil((2 * plan.perVariant) / 20_000));
  });

  it('plans a lift too small for any experiment in finite time, as an astronomical number of users', () => {
    const plan = planExperiment({ baseline: 0.03, relativeLift: 1e-9 });
    expect(plan.perVariant).toBeGreaterThan(1e20);
    expect(plan.sequential?.perVariant).toBeGreaterThan(plan.perVariant);
    expect(Number.isFinite(plan.sequential?.perVariant)).toBe(true);
  });

  it('plans each comparison at α / (variants − 1), a mean with --sd and --difference, and prints JSON', async () => {
    const three = await run(
      'plan',
      '--baseline',
      '0.1',
      '--lift',
      '10%',
      '--variants',
      '3',
      '--json',
    );
    expect(three.code).toBe(0);
    const json = JSON.parse(three.text()) as {
      alphaPerComparison: number;
      perVariant: number;
      total: number;
    };
    expect(json.alphaPerComparison).toBe(0.025);
    expect(json.total).toBe(3 * json.perVariant);
    const mean = await run('plan', '--sd', '40', '--difference', '2');
    expect(mean.code).toBe(0);
    expect(mean.out[0]).toBe(
      'To detect a difference of 2 in the mean (σ = 40) at 80 % power, α = 0.05, two-sided:',
    );
    expect(mean.out).toHaveLength(2);
  });

  it.each([
    [['plan'], /give --baseline and --lift, or --sd and --difference/],
    [['plan', '--baseline', '3%'], /--baseline and --lift go together/],
    [
      ['plan', '--baseline', '3%', '--lift', '5%', '--sd', '3'],
      /give --baseline and --lift, or --sd and --difference/,
    ],
    [['plan', '--baseline', '60%', '--lift', '100%'], /is not a rate in \(0, 1\)/],
    [
      ['plan', '--baseline', '3%', '--lift', '5%', '--power', '80'],
      /--power: "80" is not a number above 0 under 1/,
    ],
    [
      ['plan', '--baseline', '3%', '--lift', '5%', '--variants', '1'],
      /--variants: "1" is not a whole number above 1/,
    ],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const { code, err } = await run(...args);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });
});

describe('rampflag experiment', () => {
  it('is a command of rampflag, with help for itself and each subcommand', async () => {
    const list = fakeIo();
    expect(await main(['--help'], list.io)).toBe(0);
    expect(list.text()).toMatch(/experiment <command> +A\/B experiments/);
    const help = fakeIo();
    expect(await main(['experiment', '--help'], help.io)).toBe(0);
    expect(help.text()).toMatch(/^Usage: rampflag experiment <command>/);
    const analyze = fakeIo();
    expect(await main(['experiment', 'analyze', '--help'], analyze.io)).toBe(0);
    expect(analyze.text()).toMatch(
      /^Usage: rampflag experiment analyze \(--counts <file> \| --prometheus <url> --flag <key>\)/,
    );
    expect(analyze.text()).toContain('Exit codes:\n  0  analysed');
    const none = fakeIo();
    expect(await main(['experiment'], none.io)).toBe(2);
  });
});
