import { Command, CommanderError } from 'commander';
import { forIo, USAGE_EXIT, type CliCommand } from './command.js';
import { diff } from './diff.js';
import { distribution } from './distribution.js';
import { drift } from './drift.js';
import { evaluate } from './eval.js';
import { experiment } from './experiment.js';
import { get } from './get.js';
import type { CliIo } from './io.js';
import { rollout } from './rollout.js';
import { serve } from './serve.js';
import { validate } from './validate.js';
import { verify } from './verify.js';
import { VERSION } from './version.js';

/** Every command, in the order `rampflag --help` lists them. */
const COMMANDS: readonly CliCommand[] = [
  {
    name: 'serve',
    operands: '[files...]',
    summary: 'serve flags from files, URLs or a sync server, as flagd does',
    run: serve,
  },
  {
    name: 'rollout',
    operands: '<command>',
    summary: 'guarded rollouts; kill, roll back, freeze; the audit log',
    run: rollout,
  },
  {
    name: 'experiment',
    operands: '<command>',
    summary: 'A/B experiments: analyze (lifts, anytime-valid tests, Holm, SRM), plan (sample size)',
    run: experiment,
  },
  {
    name: 'validate',
    operands: '<files...>',
    summary: 'check flag files: errors and warnings by JSON path and line:column (CI, pre-commit)',
    run: validate,
  },
  {
    name: 'get',
    operands: '<flag>',
    summary: "a flag's definition, rollout phase and exposure per variant and cohort",
    run: get,
  },
  {
    name: 'eval',
    operands: '<flag>',
    summary: 'resolve a flag for a context; --explain: rule path, hash, bucket, flip point',
    run: evaluate,
  },
  {
    name: 'distribution',
    operands: '<flag>',
    summary: 'the split of a flag over many subjects, per variant and cohort, with a χ² check',
    run: distribution,
  },
  {
    name: 'diff',
    operands: '<old> <new>',
    summary: 'flags added, removed, changed; who moves between variants; re-bucketing warnings',
    run: diff,
  },
  {
    name: 'drift',
    operands: '<files...>',
    summary: 'does the live server serve exactly what the flag files hold? (exit 1 on drift)',
    run: drift,
  },
  {
    name: 'verify',
    operands: '<flag>',
    summary: 'do all replicas give each subject the same variant? (stickiness, propagation)',
    run: verify,
  },
];

/**
 * Runs `rampflag <command> …`; resolves with the exit code. `--help` and `--version` exit 0; an
 * unknown command is named, with the nearest one suggested, and exits 2.
 */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  let argv = args;
  let code = 0;
  const program = forIo(new Command('rampflag'), io)
    .description('progressive delivery on OpenFeature, flagd-compatible')
    .version(VERSION, '-V, --version', 'print the version')
    .helpCommand(false)
    .showHelpAfterError('(rampflag --help lists the commands)')
    .enablePositionalOptions()
    .usage('<command> [options]')
    // "diff <old> <new>" in the list of commands, as each command's own usage says
    .configureHelp({
      subcommandTerm: (cmd) =>
        `${cmd.name()} ${COMMANDS.find((c) => c.name === cmd.name())?.operands ?? ''}`.trimEnd(),
    });
  for (const command of COMMANDS)
    program
      .command(command.name)
      .description(command.summary)
      .helpOption(false) // each command prints its own help
      .allowUnknownOption()
      .allowExcessArguments()
      .passThroughOptions()
      .argument('[args...]')
      .usage(`${command.operands} [options]`)
      .action(async (...params: unknown[]) => {
        code = await command.run((params.at(-1) as Command).args, io);
      });
  // `rampflag help serve` is `rampflag serve --help`
  const [first, second] = argv;
  if (first === 'help' && second !== undefined && COMMANDS.some((c) => c.name === second))
    return main([second, '--help'], io);
  if (first === 'help') argv = ['--help'];
  if (argv.length === 0) {
    io.stderr(program.helpInformation().replace(/\n$/, ''));
    return USAGE_EXIT;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === 0 ? 0 : USAGE_EXIT;
  }
  return code;
}
