import { Command, InvalidArgumentError } from 'commander';
import { FAILURE_EXITS, runCommand } from './command.js';
import { exposureOf } from './exposure.js';
import { flagOf, loadInputs, readInputs } from './flag-source.js';
import { summarise } from './flag-summary.js';
import { definitionLines, exposureRows } from './get-output.js';
import type { CliIo } from './io.js';
import { colorsFor, table } from './output.js';

const HELP = `
Shows one flag:
  - its definition: state, variants, default, the targeting one cohort per line;
  - its rollout phase from its metadata (rollout.status, .step, .percent, .since, .safeVariant)
    and the incident freeze from its flag set's metadata;
  - its exposure per cohort (each branch of the targeting: ring rules, then everyone else):
    exact where the rule says so (a variant by name, the default, the fractional weights), and
    estimated elsewhere by evaluating generated subjects (--samples, --seed), with each estimate's
    sample size.
Several files are merged as "rampflag serve" merges them (a later file wins a flag key).

The server (--from):
  grpc://host:8015    flagd's FetchAllFlags (flagd or rampflag serve); ?selector= picks a part
  http://host:8014    rampflag serve's management API (GET /admin/flags; a token with the read
                      role from RAMPFLAG_TOKEN when the server needs one)

Examples:
  rampflag get checkout.payments.express-pay flags.yaml
  rampflag get new-ui base.yaml overrides.yaml --json
  rampflag get new-ui --from grpc://flagd.prod:8015

Exit codes:
  0  the flag is shown
  1  no such flag (the nearest keys are named), or the flags cannot be read or are invalid
  2  bad usage`;

/** Most generated subjects: each is one evaluation per condition of the rule, plus one. */
const MAX_SAMPLES = 1_000_000;

const wholeNumber = (name: string, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new InvalidArgumentError(
      `${name} must be a whole number up to ${max.toLocaleString('en-US')}`,
    );
  return n;
};

function command(): Command {
  return new Command('rampflag get')
    .usage('<flag> (<files...> | --from <server>) [options]')
    .description('one flag: its definition, rollout phase and exposure per variant and cohort')
    .argument('<flag>', 'the flag key')
    .argument('[files...]', 'flag files (JSON or YAML), merged as rampflag serve merges them')
    .option('--from <server>', 'read a live server: grpc://host:8015 or http://host:8014')
    .option(
      '--samples <n>',
      'generated subjects for the estimates',
      wholeNumber('--samples', MAX_SAMPLES),
      10_000,
    )
    .option('--seed <n>', 'seed of the generated subjects', wholeNumber('--seed', 2 ** 32 - 1), 1)
    .option('--json', 'print JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

/**
 * `rampflag get <flag> (files… | --from <server>)`: the flag's definition, rollout phase and
 * exposure. Exit 0, 1 when the flag is not found (naming near keys) or the flags cannot be read,
 * 2 on bad usage.
 */
export function get(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): Promise<number> {
  return runCommand(command(), args, io, FAILURE_EXITS, async (parsed) => {
    const [key, files] = parsed.processedArgs as [string, string[]];
    const opts = parsed.opts<{ from?: string; samples: number; seed: number; json?: boolean }>();
    const loaded = loadInputs(await readInputs(files, opts.from, env));
    const flag = flagOf(loaded, key);
    const summary = summarise(key, flag, now());
    const exposure = exposureOf(loaded.evaluator, key, flag, {
      samples: opts.samples,
      seed: opts.seed,
    });
    if (opts.json === true) {
      io.stdout(JSON.stringify({ origin: loaded.origin, ...summary, exposure }, null, 2));
      return 0;
    }
    for (const line of definitionLines(io, summary, loaded.origin)) io.stdout(line);
    io.stdout('');
    io.stdout(colorsFor(io).bold('exposure per cohort'));
    const rows = exposureRows(exposure);
    const sampled = exposure.sample.size > 0;
    io.stdout(
      table(
        io,
        ['cohort', 'variant', 'share', 'how', ...(sampled ? ['measured'] : [])],
        sampled ? rows : rows.map((r) => r.slice(0, 4)),
      ),
    );
    if (sampled)
      io.stdout(
        colorsFor(io).dim(
          `measured: an estimate over ${exposure.sample.size.toLocaleString('en-US')} generated subjects (seed ${exposure.sample.seed}), "of n" the subjects that landed in the cohort; ± a 95 % margin`,
        ),
      );
    return 0;
  });
}
