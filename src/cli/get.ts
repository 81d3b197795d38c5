import { Command, InvalidArgumentError } from 'commander';
import { parse, USAGE_EXIT } from './command.js';
import { exposureOf, type CohortExposure, type Exposure } from './exposure.js';
import { CliError, flagOf, loadInputs, readInputs } from './flag-source.js';
import { summarise, type FlagSummary } from './flag-summary.js';
import type { CliIo } from './io.js';
import { colorsFor, table } from './output.js';
import { percentText } from './rule-text.js';

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

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

function command(): Command {
  return new Command('get')
    .usage('<flag> (<files...> | --from <server>) [options]')
    .description('one flag: its definition, rollout phase and exposure per variant and cohort')
    .argument('<flag>', 'the flag key')
    .argument('[files...]', 'flag files (JSON or YAML), merged as rampflag serve merges them')
    .option('--from <server>', 'read a live server: grpc://host:8015 or http://host:8014')
    .option(
      '--samples <n>',
      'generated subjects for the estimates',
      positiveInt('--samples'),
      10_000,
    )
    .option('--seed <n>', 'seed of the generated subjects', positiveInt('--seed'), 1)
    .option('--json', 'print JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

function definitionLines(io: CliIo, summary: FlagSummary, origin: string): string[] {
  const c = colorsFor(io);
  const row = (name: string, value: string) => `  ${name.padEnd(10)} ${value}`;
  const variants = Object.entries(summary.variants)
    .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
    .join(', ');
  const lines = [
    `${c.bold(summary.flag)}  ${c.dim(`(${origin})`)}`,
    row('state', summary.state === 'DISABLED' ? c.yellow('DISABLED') : String(summary.state)),
    row('variants', `${variants}  ${c.dim(`(${summary.type})`)}`),
    row('default', summary.defaultVariant ?? "none (the caller's default value)"),
  ];
  summary.rules.forEach((rule, i) => lines.push(row(i === 0 ? 'targeting' : '', rule)));
  if (summary.rules.length === 0) lines.push(row('targeting', 'none'));
  const metadata = Object.entries(summary.metadata).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  if (metadata.length > 0) lines.push(row('metadata', metadata.join(', ')));
  const r = summary.rollout;
  if (summary.rolloutError !== undefined)
    lines.push(row('rollout', c.red(`unreadable: ${summary.rolloutError}`)));
  else if (r === null) lines.push(row('rollout', 'none'));
  else {
    const safe = r.safeVariant === undefined ? '' : `; safe variant ${r.safeVariant}`;
    lines.push(
      row(
        'rollout',
        `${r.status} at step ${r.step}: ${r.percent} % on the treatment, since ${r.since} (id ${r.id})${safe}`,
      ),
    );
  }
  const f = summary.freeze;
  lines.push(row('freeze', f === null ? 'none' : f.active ? c.red(f.text) : f.text));
  return lines;
}

function basisText(cohort: CohortExposure, weight: number | undefined): string {
  const exact = cohort.exact;
  if (exact === undefined) return '';
  if (exact.basis === 'weights')
    return `weight ${weight?.toLocaleString('en-US')} of ${exact.total?.toLocaleString('en-US')}`;
  return {
    static: 'no targeting',
    disabled: 'disabled',
    'by-name': 'by name',
    default: 'default variant',
  }[exact.basis];
}

function measuredText(cohort: CohortExposure, variant: string): string {
  const { n, shares } = cohort.sample;
  if (n === 0) return '';
  const share = shares.find((s) => s.variant === variant)?.share ?? 0;
  const margin = 1.96 * Math.sqrt((share * (1 - share)) / n);
  return `${percentText(share)} ± ${percentText(margin)} of ${n.toLocaleString('en-US')}`;
}

function exposureRows(exposure: Exposure): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const cohort of exposure.cohorts) {
    const label = (i: number) => (i === 0 ? cohort.label : '');
    const exact = cohort.exact;
    if (exact !== undefined)
      exact.shares.forEach((s, i) =>
        rows.push([
          label(i),
          s.variant,
          percentText(s.share),
          `exact: ${basisText(cohort, s.weight)}`,
          measuredText(cohort, s.variant),
        ]),
      );
    else if (cohort.sample.n === 0)
      rows.push([label(0), '?', '', 'no generated subject reached it', '']);
    else
      cohort.sample.shares.forEach((s, i) =>
        rows.push([
          label(i),
          s.variant,
          `≈ ${percentText(s.share)}`,
          'estimate',
          measuredText(cohort, s.variant),
        ]),
      );
  }
  return rows;
}

/**
 * `rampflag get <flag> (files… | --from <server>)`: the flag's definition, rollout phase and
 * exposure. Exit 0, 1 when the flag is not found (naming near keys) or the flags cannot be read,
 * 2 on bad usage.
 */
export async function get(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): Promise<number> {
  const parsed = parse(command(), args, io);
  if (typeof parsed === 'number') return parsed;
  const [key, files] = parsed.processedArgs as [string, string[]];
  const opts = parsed.opts<{ from?: string; samples: number; seed: number; json?: boolean }>();
  try {
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
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr(`rampflag get: ${error.message}`);
    return error.usage ? USAGE_EXIT : 1;
  }
}
