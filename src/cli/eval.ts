import { Command } from 'commander';
import type { EvaluationResult } from '../evaluator/index.js';
import { safeVariantOf } from '../rollout/transitions.js';
import { CliError, FAILURE_EXITS, isCliError, runCommand } from './command.js';
import { contextFrom } from './context-args.js';
import { explainEvaluation, type ExplainedEvaluation } from './eval-explain.js';
import { explainLines, resultLines } from './eval-output.js';
import { loadInputs, readInputs, type LoadedFlags } from './flag-source.js';
import type { CliIo } from './io.js';
import { notFoundMessage } from './near-matches.js';
import { evaluateOverOfrep } from './ofrep-eval.js';

type Json = Record<string, unknown>;

const HELP = `
Resolves one flag for one context as a provider would, and prints the resolution: value, variant,
reason, error code and the flag's metadata.

The context: --context '{"targetingKey": "user-42", "ring": "beta"}', then each -c key=value over
it (the value is JSON when it parses: -c age=42 is a number, -c beta=true a boolean, -c 'tags=["a"]'
an array; else it is text), then --targeting-key. Keys are taken as written (-c user.tier=gold sets
the key "user.tier"; nest with --context).

--explain shows why: the rule path taken, each operator with its value (innermost first), and for
each fractional the bucketing key, its MurmurHash3 (x86, 32-bit, seed 0), the bucket
floor(hash * total / 2^32) and the weight table; then the share of the treatment at which this
subject gets it, exact for any weight table: "user-42 is in bucket 2,913 of 10,000: it gets 'on'
once 'on' reaches 29.14 %". The treatment is --treatment, else the bucket at either end of the list
that is not the rollout's safe variant (or the default variant). Only a treatment whose bucket is
first or last has such a threshold.

The flags (files merged as "rampflag serve" merges them, or --from):
  grpc://host:8015    flagd's FetchAllFlags: evaluated here, on the configuration fetched
  http://host:8014    rampflag serve's management API (token from RAMPFLAG_TOKEN): evaluated here
  http://host:8016    an OFREP server, such as flagd's OFREP port: evaluated there, through OFREP's
                      single-flag evaluation (used when the URL has no management API, or with
                      --ofrep). OFREP gives no flag definitions, so --explain cannot be used.

Examples:
  rampflag eval new-checkout flags.yaml --targeting-key user-42
  rampflag eval new-checkout flags.yaml -c targetingKey=user-42 -c ring=beta --explain
  rampflag eval new-checkout --from grpc://flagd:8015 --context '{"targetingKey": "user-42"}' --json
  rampflag eval new-checkout --from http://flagd:8016 --ofrep -k user-42

Exit codes:
  0  resolved (reasons STATIC, TARGETING_MATCH, DEFAULT, DISABLED, …)
  1  resolved with an error (FLAG_NOT_FOUND, naming the nearest keys; PARSE_ERROR; GENERAL; …),
     or the flags or the server cannot be read
  2  bad usage (a --context that is not a JSON object, say)`;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function command(): Command {
  return new Command('rampflag eval')
    .usage('<flag> (<files...> | --from <server>) [--context <json>] [-c key=value...] [options]')
    .description('resolve a flag for a context; --explain shows the rule path, hash and bucket')
    .argument('<flag>', 'the flag key')
    .argument('[files...]', 'flag files (JSON or YAML), merged as rampflag serve merges them')
    .option('--from <server>', 'a live server: grpc://host:8015, http://host:8014 or an OFREP URL')
    .option('--context <json>', 'the evaluation context, a JSON object')
    .option('-c, --context-value <key=value>', 'one context attribute (repeatable)', collect)
    .option('-k, --targeting-key <key>', 'the targeting key')
    .option('--explain', 'show the rule path, bucketing key, hash, bucket and weight table')
    .option('--treatment <variant>', 'with --explain: the variant whose flip point to compute')
    .option('--ofrep', 'with --from http(s)://…: evaluate on the server through OFREP')
    .option('--json', 'print JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

interface Options {
  from?: string;
  context?: string;
  contextValue?: string[];
  targetingKey?: string;
  explain?: boolean;
  treatment?: string;
  ofrep?: boolean;
  json?: boolean;
}

const isHttp = (url: string | undefined) => url !== undefined && /^https?:\/\//i.test(url);

/** The flags to evaluate on here, or the OFREP server to ask (`--ofrep`, or an http URL without a management API). */
async function sourceOf(
  files: readonly string[],
  opts: Options,
  env: NodeJS.ProcessEnv,
): Promise<{ loaded: LoadedFlags } | { ofrep: string }> {
  if (opts.ofrep === true) {
    if (!isHttp(opts.from)) throw new CliError('--ofrep needs --from http(s)://host:8016', 'usage');
    return { ofrep: opts.from as string };
  }
  try {
    return { loaded: loadInputs(await readInputs(files, opts.from, env)) };
  } catch (error) {
    // an OFREP port (flagd's 8016) has no management API: it answers 404 for /admin/flags
    if (isCliError(error) && isHttp(opts.from) && / answered 404\b/.test(error.message))
      return { ofrep: opts.from as string };
    throw error;
  }
}

/**
 * `rampflag eval <flag> (files… | --from <server>) [--context …] [--explain]`: one resolution,
 * and with `--explain` why. Exit 0 when it resolved without an error, 1 with one (or when the
 * flags cannot be read), 2 on bad usage.
 */
export function evaluate(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runCommand(command(), args, io, FAILURE_EXITS, async (parsed) => {
    const [key, files] = parsed.processedArgs as [string, string[]];
    const opts = parsed.opts<Options>();
    const context = contextFrom(opts);
    if (opts.treatment !== undefined && opts.explain !== true)
      throw new CliError('--treatment goes with --explain', 'usage');
    const source = await sourceOf(files, opts, env);
    if ('ofrep' in source && opts.explain === true)
      throw new CliError(
        `--explain needs the flag definitions, which OFREP does not give: read them with --from grpc://host:8015 or the management API (http://host:8014)`,
        'usage',
      );
    let result: EvaluationResult<unknown>;
    let explained: ExplainedEvaluation | undefined;
    let origin: string;
    if ('ofrep' in source) {
      origin = `${source.ofrep}, evaluated there through OFREP`;
      result = await evaluateOverOfrep(source.ofrep, key, context);
    } else {
      const { loaded } = source;
      origin = loaded.origin;
      result = loaded.evaluator.resolveValue(key, context);
      const flag = loaded.flags.get(key);
      if (flag === undefined)
        result = { ...result, errorMessage: notFoundMessage(key, [...loaded.flags.keys()]) };
      else if (opts.explain === true) {
        const safeVariant = safeVariantOf(flag);
        explained = explainEvaluation(
          loaded.evaluator.explain(key, context),
          flag,
          context as Json,
          {
            ...(safeVariant === undefined ? {} : { safeVariant }),
            ...(opts.treatment === undefined ? {} : { treatment: opts.treatment }),
          },
        );
      }
    }
    if (opts.json === true)
      io.stdout(
        JSON.stringify(
          {
            flag: key,
            origin,
            evaluatedBy: 'ofrep' in source ? 'the server, through OFREP' : 'rampflag',
            context,
            ...result,
            ...(explained === undefined ? {} : { explain: explained }),
          },
          null,
          2,
        ),
      );
    else {
      for (const line of resultLines(io, key, origin, result)) io.stdout(line);
      if (explained !== undefined) for (const line of explainLines(io, explained)) io.stdout(line);
    }
    return result.reason === 'ERROR' ? 1 : 0;
  });
}
