import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AuditLog, verifyAudit } from '../rollout/audit.js';
import { RolloutController, type RolloutOutcome } from '../rollout/controller.js';
import { parsePlan, type RolloutPlan } from '../rollout/plan.js';
import { formatSimulation, simulateRollouts } from '../rollout/simulate.js';
import { prometheusReader } from '../rollout/prometheus.js';
import { functionReader, type MetricReader } from '../rollout/readers.js';
import { readRollout } from '../rollout/state.js';
import { adminWriter, fileWriter, type FlagWriter } from '../rollout/writers.js';
import type { CliIo } from './io.js';
import { describeOutcome, describeRollout } from './rollout-output.js';

const USAGE = `usage: rampflag rollout <command> --plan <plan.yaml> (--flags <flags.json> | --admin <url>) [options]
commands:
  start      check the plan against the flag and write its first step
  step       make one decision and carry it out, then exit (for CI and cron; see exit codes)
  run        decide every checkEvery until the rollout completes or rolls back
  status     where the rollout stands
  pause | resume | rollback | kill    by hand; rollback and kill serve the safe variant, idempotently
  audit      print the audit log; --verify checks its hash chain and the flag's rollout.audit
  simulate   run the plan's real decisions on synthetic traffic: A/A false rollbacks, detection of
             a regression, users exposed, against the naive "rate > 1 % → roll back" rule
options:
  --plan <file>          the rollout plan (YAML or JSON)
  --flags <file>         the flag file that is the source of truth
  --admin <url>          or a rampflag server's admin API (token from RAMPFLAG_ADMIN_TOKEN)
  --source <name>        with --admin: the server's source to write
  --audit <file>         the audit log (default rampflag-audit.jsonl)
  --prometheus <url>     where metrics are read (default: the plan's metrics.prometheus)
  --actor <name>         who acts, for the audit log (default $USER@rampflag)
  --reason <text>        why, for pause, resume, rollback and kill
  --verify               with audit: check the chain
  --runs <n>             with simulate: rollouts per scenario (default 1000)
  --regression <x>       with simulate: the treatment's error-rate multiplier (default 2)
  --seed <n>             with simulate: the seed (default 1)
  --json                 print JSON
exit codes of step (and of run, for how it ended):
  0 advanced   10 held   11 completed   12 rolled back (or killed)   1 error   2 bad usage or plan`;

/** The exit codes of `rampflag rollout step`, documented in its usage. */
export const STEP_EXIT = {
  advance: 0,
  hold: 10,
  complete: 11,
  rollback: 12,
  error: 1,
  usage: 2,
} as const;

const OPTIONS = {
  plan: { type: 'string' },
  flags: { type: 'string' },
  admin: { type: 'string' },
  source: { type: 'string' },
  audit: { type: 'string' },
  prometheus: { type: 'string' },
  actor: { type: 'string' },
  reason: { type: 'string' },
  verify: { type: 'boolean' },
  runs: { type: 'string' },
  regression: { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function writerOf(values: Values, env: NodeJS.ProcessEnv): FlagWriter {
  if ((values.flags === undefined) === (values.admin === undefined))
    throw new UsageError('give --flags <file> or --admin <url>');
  if (values.flags !== undefined) return fileWriter(values.flags);
  const token = env['RAMPFLAG_ADMIN_TOKEN'];
  return adminWriter(values.admin as string, {
    ...(token ? { token } : {}),
    ...(values.source ? { source: values.source } : {}),
  });
}

function readerOf(plan: RolloutPlan, values: Values): MetricReader {
  const url = values.prometheus ?? plan.metrics.prometheus;
  if (url !== undefined) return prometheusReader(url);
  return functionReader(() => {
    throw new Error('no metrics: set metrics.prometheus in the plan or pass --prometheus <url>');
  }, 'none');
}

function planOf(values: Values): RolloutPlan {
  if (values.plan === undefined) throw new UsageError('--plan <file> is required');
  let text: string;
  try {
    text = readFileSync(values.plan, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the plan ${values.plan}: ${(error as Error).message}`);
  }
  return parsePlan(text);
}

const exitOf = (outcome: RolloutOutcome): number =>
  outcome.rollout.status === 'killed' || outcome.rollout.status === 'rolled-back'
    ? STEP_EXIT.rollback
    : outcome.rollout.status === 'completed'
      ? STEP_EXIT.complete
      : outcome.action === 'advance'
        ? STEP_EXIT.advance
        : outcome.action === 'hold'
          ? STEP_EXIT.hold
          : 0;

/** `rampflag rollout …`: drives a guarded rollout; returns the exit code. */
export async function rollout(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`rampflag rollout: ${(error as Error).message}\n${USAGE}`);
    return STEP_EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.help === true || command === undefined) {
    (values.help === true ? io.stdout : io.stderr)(USAGE);
    return values.help === true ? 0 : STEP_EXIT.usage;
  }
  const print = (human: string, json: unknown) =>
    io.stdout(values.json === true ? JSON.stringify(json) : human);
  try {
    if (command === 'audit') return await audit(values, print);
    const plan = planOf(values);
    if (command === 'simulate') return simulate(plan, values, print);
    const controller = new RolloutController({
      plan,
      writer: writerOf(values, env),
      reader: readerOf(plan, values),
      audit: new AuditLog(values.audit ?? 'rampflag-audit.jsonl'),
      ...(values.actor
        ? { actor: values.actor }
        : env['USER']
          ? { actor: `${env['USER']}@rampflag` }
          : {}),
    });
    const reason = values.reason;
    const show = (outcome: RolloutOutcome) =>
      print(describeOutcome(plan, outcome, Date.now()), outcome);
    switch (command) {
      case 'status': {
        const { rollout: state } = await controller.status();
        print(describeRollout(plan, state), { rollout: state ?? null });
        return 0;
      }
      case 'start':
      case 'step':
      case 'pause':
      case 'resume':
      case 'rollback':
      case 'kill': {
        const outcome = await (command === 'start'
          ? controller.start()
          : command === 'step'
            ? controller.step()
            : controller[command](...(reason === undefined ? [] : [reason])));
        show(outcome);
        return command === 'step' ? exitOf(outcome) : 0;
      }
      case 'run': {
        // on a terminal each check redraws the progress block; elsewhere each is appended
        let drawn = 0;
        const progress = (outcome: RolloutOutcome) => {
          if (io.tty !== true || values.json === true || outcome.action !== 'hold') {
            drawn = 0;
            return show(outcome);
          }
          const text = describeOutcome(plan, outcome, Date.now());
          io.stdout(`${drawn > 0 ? `\x1b[${drawn}A\x1b[J` : ''}${text}`);
          drawn = text.split('\n').length;
        };
        const last = await controller.run({
          signal: io.signal,
          onStep: progress,
          onError: (error, failures) => {
            drawn = 0;
            io.stderr(
              `rampflag rollout run: ${error.message} (failure ${failures} in a row; retrying)`,
            );
          },
        });
        return exitOf(last);
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    const e = error as Error & { issues?: readonly { path: string; message: string }[] };
    const detail = e.issues?.map((i) => `\n  ${i.path || '(plan)'}: ${i.message}`).join('') ?? '';
    if (values.json === true)
      io.stdout(
        JSON.stringify({
          error: e.name,
          message: e.message,
          ...(e.issues ? { issues: e.issues } : {}),
        }),
      );
    io.stderr(
      `rampflag rollout ${command}: ${e.issues ? 'refused' : e.message}${detail}${e.name === 'UsageError' ? `\n${USAGE}` : ''}`,
    );
    return e.name === 'UsageError' || e.name === 'PlanError' ? STEP_EXIT.usage : STEP_EXIT.error;
  }
}

async function audit(
  values: Values,
  print: (human: string, json: unknown) => void,
): Promise<number> {
  const log = new AuditLog(values.audit ?? 'rampflag-audit.jsonl');
  const text = await log.read();
  if (values.verify !== true) {
    const result = verifyAudit(text);
    if (!result.ok) {
      print(`audit log broken at line ${result.line}: ${result.problem}`, result);
      return STEP_EXIT.error;
    }
    const records = result.records;
    print(
      records
        .map(
          (r) =>
            `${r.time} ${r.actor} ${r.rolloutId} ${r.action}${r.changed ? '' : ' (no change)'}: ${r.reason}`,
        )
        .join('\n'),
      records,
    );
    return result.ok ? 0 : STEP_EXIT.error;
  }
  // the flag's rollout.audit is the head as of its last write; later records must change nothing
  let head: string | undefined;
  if (values.plan !== undefined && values.flags === undefined && values.admin === undefined)
    throw new UsageError(
      'audit --verify --plan also needs --flags <file> or --admin <url>, to check the flag',
    );
  if (values.plan !== undefined) {
    const plan = planOf(values);
    const { configuration } = await writerOf(values, process.env).read();
    const flags = (JSON.parse(configuration) as { flags?: unknown }).flags;
    const flag = Array.isArray(flags)
      ? (flags as { key?: unknown }[]).find((f) => f.key === plan.flag)
      : flags !== null && typeof flags === 'object' && Object.hasOwn(flags, plan.flag)
        ? (flags as Record<string, unknown>)[plan.flag]
        : undefined;
    head = readRollout(flag)?.auditHead;
  }
  const result = verifyAudit(text);
  if (!result.ok) {
    print(`audit log broken at line ${result.line}: ${result.problem}`, result);
    return STEP_EXIT.error;
  }
  if (head !== undefined) {
    const at = result.hashes.indexOf(head);
    // records of writes that did not happen are followed by one that says so
    const cancelled = new Set(
      result.records.map((r) => (r.evidence as { notWritten?: unknown } | null)?.notWritten),
    );
    const after = at < 0 ? undefined : result.records.slice(at + 1);
    const claims = after?.filter((r, i) => r.changed && !cancelled.has(result.hashes[at + 1 + i]));
    if (claims === undefined || claims.length > 0) {
      const problem =
        at < 0
          ? result.records.length === 0
            ? `the audit log ${values.audit ?? 'rampflag-audit.jsonl'} is empty or missing, but the flag records head ${head}: pass the log the rollout wrote with --audit`
            : `the flag's rollout.audit ${head} is not in the log: records were removed`
          : 'records after the flag’s last write claim changes';
      print(`audit log does not match the flag: ${problem}`, { ok: false, problem });
      return STEP_EXIT.error;
    }
  }
  print(`audit log ok: ${result.records.length} records, head ${result.head}`, {
    ok: true,
    records: result.records.length,
    head: result.head,
  });
  return 0;
}

/** A positive number option, or a usage error naming it. */
function numberOption(
  values: Values,
  name: 'runs' | 'regression' | 'seed',
  integer: boolean,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name}: "${raw}" is not a positive ${integer ? 'whole ' : ''}number`);
  return n;
}

function simulate(
  plan: RolloutPlan,
  values: Values,
  print: (human: string, json: unknown) => void,
): number {
  const runs = numberOption(values, 'runs', true);
  const regression = numberOption(values, 'regression', false);
  const seed = numberOption(values, 'seed', true);
  const summary = simulateRollouts(plan, {
    ...(runs === undefined ? {} : { rollouts: runs }),
    ...(regression === undefined ? {} : { regression }),
    ...(seed === undefined ? {} : { seed }),
  });
  print(formatSimulation(summary), summary);
  return 0;
}
