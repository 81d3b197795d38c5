import { USAGE_EXIT } from './command.js';
import { experimentAnalyze } from './experiment-analyze.js';
import { experimentPlan } from './experiment-plan.js';
import type { CliIo } from './io.js';

const USAGE = `Usage: rampflag experiment <command> [options]

A/B experiments on flagd flags: analyse their counts, plan their sample size.

Commands:
  analyze   per metric and variant against the control: rate or mean, absolute and relative
            lift with intervals, the z-test or Welch's t-test, the anytime-valid interval and
            p-value, Holm across all comparisons, a verdict; SRM on the users assigned
  plan      users per variant (and days) to detect a lift at a given power

rampflag experiment <command> --help tells more.`;

const COMMANDS: Readonly<Record<string, (args: readonly string[], io: CliIo) => Promise<number>>> =
  {
    analyze: experimentAnalyze,
    plan: experimentPlan,
  };

/**
 * `rampflag experiment <analyze|plan> …`: resolves with the subcommand's exit code; `--help` (or
 * `help`) prints the commands and exits 0, no or an unknown subcommand exits 2.
 */
export async function experiment(args: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  const run = name === undefined ? undefined : COMMANDS[name];
  if (run === undefined || !Object.hasOwn(COMMANDS, name as string)) {
    io.stderr(
      name === undefined
        ? USAGE
        : `rampflag experiment: unknown command "${name}" (analyze or plan; rampflag experiment --help)`,
    );
    return USAGE_EXIT;
  }
  return run(rest, io);
}
