import { Command } from 'commander';
import { planExperiment, type ExperimentPlan, type PlanInput } from '../experiment/plan.js';
import { CliError, INPUT_EXITS, runCommand } from './command.js';
import { parseNumber, parseShare } from './experiment-options.js';
import type { CliIo } from './io.js';

const HELP = `
Users per variant for a fixed-horizon test (the z-test for a conversion, with --baseline and
--lift; a t-test for a mean, with --sd and --difference) to detect the effect at the given power,
and with --users-per-day the days that takes (every variant, the control too, gets its share of
the traffic). With more than two variants, each comparison with the control is planned at
α / (variants − 1): Bonferroni, which Holm's correction is never stricter than.

An anytime-valid analysis (rampflag experiment analyze, the default) may be read every day; it
reaches the same power later than a fixed-horizon test read once, so plan some margin.

Examples:
  rampflag experiment plan --baseline 3% --lift 5%
  rampflag experiment plan --baseline 0.03 --lift 5% --power 0.9 --users-per-day 20000 --variants 3
  rampflag experiment plan --sd 40 --difference 1.5 --users-per-day 5000 --json

Exit codes:
  0  planned
  2  usage`;

interface Options {
  readonly baseline?: string;
  readonly lift?: string;
  readonly sd?: string;
  readonly difference?: string;
  readonly power: string;
  readonly alpha: string;
  readonly variants: string;
  readonly usersPerDay?: string;
  readonly oneSided?: boolean;
  readonly json?: boolean;
}

function command(): Command {
  return new Command('experiment plan')
    .usage('(--baseline <rate> --lift <relative> | --sd <σ> --difference <δ>) [options]')
    .description('users per variant, and days, to detect a lift at a given power')
    .option('--baseline <rate>', "the control's conversion rate, e.g. 3% or 0.03")
    .option('--lift <relative>', 'the relative lift to detect, e.g. 5%')
    .option('--sd <σ>', 'for a mean metric: the standard deviation of the value per user')
    .option('--difference <δ>', 'for a mean metric: the absolute difference to detect')
    .option('--power <power>', 'the chance of detecting the effect if it is there', '0.8')
    .option('--alpha <α>', 'significance level', '0.05')
    .option('--variants <n>', 'variants, the control included', '2')
    .option('--users-per-day <n>', 'users entering the experiment per day, all variants together')
    .option('--one-sided', 'a one-sided test (only an improvement counts)')
    .option('--json', 'print the plan as JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

function planOf(o: Options): ExperimentPlan & { readonly input: PlanInput } {
  const proportions = o.baseline !== undefined || o.lift !== undefined;
  const means = o.sd !== undefined || o.difference !== undefined;
  if (proportions === means)
    throw new CliError('give --baseline and --lift, or --sd and --difference', 'usage');
  if (proportions && (o.baseline === undefined || o.lift === undefined))
    throw new CliError('--baseline and --lift go together', 'usage');
  if (means && (o.sd === undefined || o.difference === undefined))
    throw new CliError('--sd and --difference go together', 'usage');
  const effect = proportions
    ? {
        baseline: parseShare(o.baseline as string, '--baseline'),
        relativeLift: parseShare(o.lift as string, '--lift', { positive: false }),
      }
    : {
        sd: parseNumber(o.sd as string, '--sd', { min: 0 }),
        difference: parseNumber(o.difference as string, '--difference'),
      };
  const input: PlanInput = {
    ...effect,
    power: parseNumber(o.power, '--power', { min: 0, max: 1 }),
    alpha: parseNumber(o.alpha, '--alpha', { min: 0, max: 1 }),
    variants: parseNumber(o.variants, '--variants', { min: 1, max: 1001, integer: true }),
    twoSided: o.oneSided !== true,
    ...(o.usersPerDay === undefined
      ? {}
      : { usersPerDay: parseNumber(o.usersPerDay, '--users-per-day', { min: 0 }) }),
  };
  try {
    return { ...planExperiment(input), input };
  } catch (error) {
    if (error instanceof RangeError) throw new CliError(error.message, 'usage');
    throw error;
  }
}

const n = (v: number) => v.toLocaleString('en-US');
const pct = (v: number) => `${Number((v * 100).toPrecision(4))} %`;
const daysText = (d: number) => `${n(d)} day${d === 1 ? '' : 's'}`;

function describe(plan: ExperimentPlan & { readonly input: PlanInput }): string[] {
  const { input } = plan;
  const effect =
    'baseline' in input
      ? `a ${pct(input.relativeLift)} relative lift on a ${pct(input.baseline)} baseline (${pct(input.baseline)} → ${pct(input.baseline * (1 + input.relativeLift))})`
      : `a difference of ${input.difference} in the mean (σ = ${input.sd})`;
  const alpha =
    plan.variants > 2
      ? `α = ${input.alpha} (${Number(plan.alphaPerComparison.toPrecision(3))} for each of ${plan.variants - 1} comparisons)`
      : `α = ${input.alpha}`;
  const lines = [
    `To detect ${effect} at ${pct(plan.power)} power, ${alpha}, ${plan.twoSided ? 'two-sided' : 'one-sided'}:`,
    `  fixed horizon (read once, at the end): ${n(plan.perVariant)} users per variant, ${n(plan.total)} in all${plan.days === undefined ? '' : `: ${daysText(plan.days)} at ${n(input.usersPerDay ?? 0)} users a day`}`,
  ];
  const seq = plan.sequential;
  if (seq !== undefined)
    lines.push(
      `  anytime-valid (read every day, τ = ${pct(seq.tau)}): ${n(seq.perVariant)} users per variant${seq.days === undefined ? '' : `: ${daysText(seq.days)}`}, often fewer (it stops as soon as the effect shows)`,
      `  analyse with: rampflag experiment analyze … --tau ${pct(seq.tau).replace(' ', '')}`,
    );
  return lines;
}

/**
 * `rampflag experiment plan`: users per variant (and days at the given traffic) to detect a lift.
 * Resolves with the exit code.
 */
export async function experimentPlan(args: readonly string[], io: CliIo): Promise<number> {
  return runCommand(command(), args, io, INPUT_EXITS, (parsed) => {
    const plan = planOf(parsed.opts<Options>());
    if (parsed.opts<Options>().json === true) io.stdout(JSON.stringify(plan, null, 2));
    else for (const line of describe(plan)) io.stdout(line);
    return 0;
  });
}
