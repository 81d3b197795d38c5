import type { EvaluationContext } from '@openfeature/core';
import { Command } from 'commander';
import { isObject } from '../evaluator/json-path.js';
import { parseDuration } from '../rollout/duration.js';
import { readReplicas, type Replica, type VerifyProtocol } from './verify-replicas.js';
import { generatedSubjects, MAX_SUBJECTS, readSubjects, type Subject } from './verify-subjects.js';
import type { Expectation } from './verify-summary.js';

/** Everything `rampflag verify` was asked, checked. */
export interface VerifyOptions {
  readonly flag: string;
  readonly replicas: readonly Replica[];
  readonly subjects: readonly Subject[];
  readonly expectations: readonly Expectation[];
  /** Percentage points; undefined: the default per expectation. */
  readonly tolerance: number | undefined;
  /** Whether to check again until consistent (`--until-consistent`, or any `--expect`). */
  readonly poll: boolean;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly requestTimeoutMs: number;
  readonly show: number;
  readonly json: boolean;
}

const HELP = `
Evaluates the same subjects on every replica and compares them subject by subject: a subject
that gets different variants from different replicas flips between requests (stickiness broken).

Replicas are base URLs: --replicas <file> (one per line; # starts a comment) and/or --replica <url>.
  evaluation (default)  flagd's evaluation API, e.g. http://host:8013: one ResolveAll learns the
                        flag's type, then one ResolveBoolean/String/Float/Object per subject
  ofrep                 OFREP, e.g. http://host:8016: POST /ofrep/v1/evaluate/flags/{flag}, one
                        call per subject
  --protocol sets it for all; a URL may say its own: ofrep+http://host:8016, evaluation+http://…
Outcomes: a variant; (none) when the flag is missing, disabled or has no default variant;
(error CODE) for an evaluation error.

Subjects: --subjects N (default 1000) are user-1 … user-N as targetingKey, or --subjects-file
<contexts.jsonl>, one context (a JSON object) per line; --context '{…}' is under each.

After a change, checking again until it has propagated:
  --until-consistent    checks every --interval until every replica agrees, for --timeout
  --expect on=25        also: until "on" has 25 % (± tolerance) on every replica (repeatable;
                        implies re-checking). The default tolerance is the 99.9 % binomial
                        interval for the number of subjects: 3.29·√(p(1−p)/N).
  --timeout 0           one check only

Examples:
  rampflag verify checkout --replicas replicas.txt
  rampflag verify checkout --replica http://10.0.0.7:8013 --replica http://10.0.0.8:8013 --subjects 10000
  rampflag verify checkout --replicas replicas.txt --protocol ofrep --context '{"ring":"beta"}'
  rampflag verify checkout --replicas replicas.txt --expect on=25 --timeout 2m
  rampflag verify checkout --replicas replicas.txt --until-consistent --timeout 60s --json

Exit codes:
  0  consistent: every replica gives every subject the same outcome (and each --expect is met)
  1  inconsistent, or an --expect not met (when --timeout ran out)
  2  usage
  3  a replica cannot be reached: no answer within --request-timeout, refused (401, 403, 429),
     unavailable (502, 503, 504), or not the protocol's JSON`;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The `rampflag verify` command line. */
export function verifyCommand(): Command {
  return new Command('verify')
    .usage('<flag> (--replicas <file> | --replica <url>...) [options]')
    .description('do all replicas give each subject the same variant of a flag?')
    .argument('<flag>', 'the flag key')
    .option('--replicas <file>', 'base URLs, one per line (# comments)')
    .option('--replica <url>', 'a base URL (repeatable)', collect)
    .option('--protocol <protocol>', 'evaluation or ofrep', 'evaluation')
    .option('--subjects <n>', 'how many subjects to generate (default 1000)')
    .option('--subjects-file <file>', 'contexts, one JSON object per line')
    .option('--context <json>', 'context under every subject', '{}')
    .option('--expect <variant=percent>', 'the share a variant must reach (repeatable)', collect)
    .option('--tolerance <points>', 'how far a share may be from --expect, in percentage points')
    .option('--until-consistent', 'check again until every replica agrees')
    .option('--timeout <duration>', 'how long to check again', '60s')
    .option('--interval <duration>', 'between checks', '1s')
    .option('--concurrency <n>', 'requests in flight per replica', '16')
    .option('--request-timeout <duration>', 'time limit of each request', '5s')
    .option('--show <n>', 'how many differing subjects to list', '10')
    .option('--json', 'print the report as JSON')
    .helpOption('-h, --help', 'print this help')
    .addHelpText('after', HELP);
}

interface Raw {
  replicas?: string;
  replica?: string[];
  protocol: string;
  subjects?: string;
  subjectsFile?: string;
  context: string;
  expect?: string[];
  tolerance?: string;
  untilConsistent?: boolean;
  timeout: string;
  interval: string;
  concurrency: string;
  requestTimeout: string;
  show: string;
  json?: boolean;
}

/** A whole number in [min, max], else a RangeError naming the option. */
function integer(value: string, option: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max)
    throw new RangeError(
      `${option}: "${value}" is not a whole number from ${min} to ${max.toLocaleString('en-US')}`,
    );
  return n;
}

/** A duration such as 60s or 1m30s, else a RangeError naming the option. */
function duration(value: string, option: string, min = 0): number {
  const ms = value.trim() === '0' ? 0 : parseDuration(value);
  if (ms === undefined || ms < min)
    throw new RangeError(`${option}: "${value}" is not a duration such as 60s`);
  return ms;
}

/** `<variant>=<percent>` (25, 25 % or 12.5%), else a RangeError. */
export function parseExpectation(text: string): Expectation {
  const at = text.lastIndexOf('=');
  const percent = Number(text.slice(at + 1).replace(/\s*%$/, ''));
  if (
    at <= 0 ||
    text.slice(at + 1).trim() === '' ||
    !Number.isFinite(percent) ||
    percent < 0 ||
    percent > 100
  )
    throw new RangeError(`--expect: "${text}" is not <variant>=<percent>, such as on=25`);
  return { variant: text.slice(0, at), percent };
}

function contextOf(text: string): EvaluationContext {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RangeError(`--context: ${(error as Error).message}`);
  }
  if (!isObject(value))
    throw new RangeError('--context: a context is a JSON object, such as {"ring":"beta"}');
  return value as EvaluationContext;
}

/** The options of a parsed `rampflag verify`, checked and read; throws a RangeError for bad usage. */
export async function verifyOptions(flag: string, raw: Raw): Promise<VerifyOptions> {
  if (raw.protocol !== 'evaluation' && raw.protocol !== 'ofrep')
    throw new RangeError(`--protocol: "${raw.protocol}" is not evaluation or ofrep`);
  const base = contextOf(raw.context);
  if (raw.subjects !== undefined && raw.subjectsFile !== undefined)
    throw new RangeError('give --subjects or --subjects-file, not both');
  const subjects =
    raw.subjectsFile === undefined
      ? generatedSubjects(integer(raw.subjects ?? '1000', '--subjects', 1, MAX_SUBJECTS), base)
      : await readSubjects(raw.subjectsFile, base);
  const expectations = (raw.expect ?? []).map(parseExpectation);
  const tolerance = raw.tolerance === undefined ? undefined : Number(raw.tolerance);
  if (tolerance !== undefined && !(tolerance >= 0 && tolerance <= 100))
    throw new RangeError(`--tolerance: "${raw.tolerance}" is not a number of percentage points`);
  return {
    flag,
    replicas: await readReplicas(raw.replicas, raw.replica ?? [], raw.protocol as VerifyProtocol),
    subjects,
    expectations,
    tolerance,
    poll: raw.untilConsistent === true || expectations.length > 0,
    timeoutMs: duration(raw.timeout, '--timeout'),
    intervalMs: duration(raw.interval, '--interval', 10),
    concurrency: integer(raw.concurrency, '--concurrency', 1, 256),
    requestTimeoutMs: duration(raw.requestTimeout, '--request-timeout', 1),
    show: integer(raw.show, '--show', 0, 1000),
    json: raw.json === true,
  };
}

export type { Raw as RawVerifyOptions };
