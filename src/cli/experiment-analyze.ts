import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { analyzeExperiment, type ExperimentAnalysis } from '../experiment/analyze.js';
import { experimentChart } from '../experiment/chart.js';
import { fromCountsFile, MAX_COUNTS_FILE_BYTES } from '../experiment/counts-file.js';
import { isExperimentSourceError } from '../experiment/errors.js';
import { fromPrometheus } from '../experiment/prometheus-reader.js';
import type { ExperimentData } from '../experiment/types.js';
import { CliError, INPUT_EXITS, runCommand } from './command.js';
import { analysisJson, printAnalysis } from './experiment-output.js';
import { parseNumber, parseShare, parseShares } from './experiment-options.js';
import type { CliIo } from './io.js';

/** `rampflag experiment analyze`'s exit code for a sample ratio mismatch, with --fail-on-srm. */
export const SRM_EXIT = 1;

const HELP = `
For every metric and every variant against the control:
  - the conversion rate (Wilson interval) or the mean per user (t interval);
  - the absolute lift (Wald; Welch for means) and the relative lift (delta method), with intervals;
  - the two-proportion z-test (pooled standard error) or Welch's t-test, two-tailed;
  - the anytime-valid confidence sequence of the relative lift (mixture SPRT) and its always-valid
    p-value: safe to read every day, however often (τ, the lift the mixture is tuned for, is 5 %
    by default: set --tau to the lift the experiment was planned to detect);
  - Holm's correction across every (variant, metric) pair, and a verdict;
  - a warning where the fixed-horizon and the sequential test disagree (peeking);
  - the sample-ratio-mismatch check (χ², p < 0.001) of the users assigned against --shares (else
    the counts file's expectedShares, else equal shares).
Verdicts decide on the anytime-valid test; --fixed decides on the z/Welch test instead (valid only
at the one look planned in advance).

Counts (--counts): JSON of ExperimentData ({ flag, control, metrics: [{ metric, kind, variants:
[{ variant, users, conversions, valueSum?, valueSumSquares? }] }], assignment?, expectedShares?,
series? }), or CSV with the header metric,variant,users,conversions[,value_sum,value_sum_squares]
(a metric with value_sum is a mean per user). A bad row is named by its line and field.
Prometheus (--prometheus, --flag): rampflag's experiment counters (feature_flag_experiment_*),
their totals now (or at --at), and with --chart their values from --since to then.

Examples:
  rampflag experiment analyze --counts counts.csv --control off
  rampflag experiment analyze --counts checkout.json --chart lift.svg --json
  rampflag experiment analyze --prometheus http://prometheus:9090 --flag checkout --control off \\
    --since 2026-03-01T00:00:00Z --chart lift.svg --fail-on-srm

Exit codes:
  0  analysed (a sample ratio mismatch is reported, not failed, without --fail-on-srm)
  1  --fail-on-srm and the users assigned do not match the expected shares (χ² p < 0.001)
  2  usage, or a counts file that cannot be read or analysed (its line and field named)
  3  Prometheus cannot be reached, or refused the query`;

interface Options {
  readonly counts?: string;
  readonly prometheus?: string;
  readonly flag?: string;
  readonly control?: string;
  readonly metric?: string[];
  readonly alpha: string;
  readonly tau?: string;
  readonly fixed?: boolean;
  readonly shares?: string;
  readonly since?: string;
  readonly at?: string;
  readonly json?: boolean;
  readonly chart?: string;
  readonly failOnSrm?: boolean;
}

function command(): Command {
  return new Command('experiment analyze')
    .usage('(--counts <file> | --prometheus <url> --flag <key>) [options]')
    .description('analyse an A/B experiment: lifts, tests, anytime-valid intervals, Holm, SRM')
    .option('--counts <file>', 'per-variant counts, JSON or CSV')
    .option('--prometheus <url>', "read rampflag's experiment metrics from Prometheus")
    .option('--flag <key>', 'the experiment flag (with --prometheus; overrides the counts file)')
    .option('--control <variant>', "the control (default: the counts file's, or its first variant)")
    .option('--metric <name...>', 'analyse only these metrics (repeatable)')
    .option('--alpha <α>', 'significance level; intervals are 1 − α', '0.05')
    .option('--tau <lift>', 'the relative lift the anytime-valid test is tuned for (default 5%)')
    .option('--fixed', 'decide on the fixed-horizon z/Welch test instead of the anytime-valid one')
    .option('--shares <weights>', 'expected split for the SRM check, e.g. on=50,off=50')
    .option('--since <time>', 'with --prometheus: the experiment start (ISO time), for --chart')
    .option('--at <time>', 'with --prometheus: read the totals at this ISO time (default now)')
    .option('--json', 'print the analysis as JSON')
    .option('--chart <file.svg>', 'write an SVG of the relative lift over time (needs a series)')
    .option('--fail-on-srm', 'exit 1 on a sample ratio mismatch')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

function time(text: string, option: string): number {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new CliError(`${option}: "${text}" is not an ISO time`, 'usage');
  return t;
}

/**
 * A file's text, refused past `max` bytes without reading more than that: a regular file by its
 * size, anything else (a pipe, a device) by what it gives.
 */
function readBounded(path: string, max: number): string {
  const tooLarge = () => new Error(`larger than ${max / 1024 / 1024} MiB`);
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).size > max) throw tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      total += read;
      if (total > max) throw tooLarge();
      chunks.push(chunk.subarray(0, read));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

async function read(options: Options, io: CliIo): Promise<ExperimentData> {
  if ((options.counts === undefined) === (options.prometheus === undefined))
    throw new CliError('give --counts <file> or --prometheus <url>, one of the two', 'usage');
  if (options.counts !== undefined) {
    let text: string;
    try {
      text = readBounded(options.counts, MAX_COUNTS_FILE_BYTES);
    } catch (error) {
      throw new CliError(`${options.counts}: ${(error as Error).message}`, 'usage');
    }
    try {
      return fromCountsFile(text, {
        ...(options.flag === undefined ? {} : { flag: options.flag }),
        ...(options.control === undefined ? {} : { control: options.control }),
      });
    } catch (error) {
      if (isExperimentSourceError(error))
        throw new CliError(`${options.counts}: ${error.message}`, 'usage');
      throw error;
    }
  }
  if (options.flag === undefined || options.control === undefined)
    throw new CliError('--prometheus needs --flag <key> and --control <variant>', 'usage');
  const at = options.at === undefined ? Date.now() : time(options.at, '--at');
  const since = options.since === undefined ? undefined : time(options.since, '--since');
  if (since !== undefined && !(since < at))
    throw new CliError('--since must be before --at', 'usage');
  if (options.chart !== undefined && since === undefined)
    throw new CliError('--chart with --prometheus needs --since <experiment start>', 'usage');
  return fromPrometheus(options.prometheus as string, options.flag, {
    control: options.control,
    at,
    ...(since === undefined ? {} : { since }),
    signal: io.signal,
  });
}

/** Only the metrics asked for, and the expected shares given. */
function narrowed(data: ExperimentData, options: Options): ExperimentData {
  const wanted = options.metric;
  const metrics =
    wanted === undefined ? data.metrics : data.metrics.filter((m) => wanted.includes(m.metric));
  const unknown = (wanted ?? []).filter((w) => !data.metrics.some((m) => m.metric === w));
  if (unknown.length > 0)
    throw new CliError(
      `no metric ${unknown.map((u) => `"${u}"`).join(', ')} (metrics: ${data.metrics.map((m) => m.metric).join(', ') || 'none'})`,
      'usage',
    );
  const keep = (series: ExperimentData['series']) =>
    series?.map((p) => ({
      ...p,
      metrics: p.metrics.filter((m) => metrics.some((k) => k.metric === m.metric)),
    }));
  return {
    ...data,
    metrics,
    ...(data.series === undefined ? {} : { series: keep(data.series) ?? [] }),
    ...(options.shares === undefined ? {} : { expectedShares: parseShares(options.shares) }),
  };
}

function analyse(data: ExperimentData, options: Options): ExperimentAnalysis {
  try {
    return analyzeExperiment(data, {
      alpha: parseNumber(options.alpha, '--alpha', { min: 0, max: 1 }),
      ...(options.tau === undefined ? {} : { tau: parseShare(options.tau, '--tau') }),
      sequential: options.fixed !== true,
    });
  } catch (error) {
    if (isExperimentSourceError(error)) throw new CliError(error.message, 'usage');
    throw error;
  }
}

/**
 * `rampflag experiment analyze (--counts <file> | --prometheus <url> --flag <key>)`: the analysis
 * as a table (or `--json`), an SVG of the lift over time with `--chart`. Resolves with the exit code.
 */
export async function experimentAnalyze(args: readonly string[], io: CliIo): Promise<number> {
  return runCommand(command(), args, io, INPUT_EXITS, async (parsed) => {
    const options = parsed.opts<Options>();
    let data: ExperimentData;
    try {
      data = narrowed(await read(options, io), options);
    } catch (error) {
      if (isExperimentSourceError(error))
        throw new CliError(error.message, error.kind === 'unreachable' ? 'unreachable' : 'usage');
      throw error;
    }
    const analysis = analyse(data, options);
    if (options.chart !== undefined) {
      if (analysis.timeline.length === 0)
        throw new CliError(
          '--chart needs counts over time: a "series" in the counts file, or --prometheus with --since',
          'usage',
        );
      writeFileSync(options.chart, experimentChart(analysis));
    }
    if (options.json === true) io.stdout(JSON.stringify(analysisJson(analysis), null, 2));
    else printAnalysis(io, analysis, options.chart);
    return options.failOnSrm === true && analysis.srm.mismatch ? SRM_EXIT : 0;
  });
}
