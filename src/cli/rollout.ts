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
import {
  flagActionByName,
  statusByName,
  waitTimeoutOf,
  type ByNameAction,
} from './rollout-actions.js';
import { freezeView, type FreezeView } from '../rollout/freeze.js';
import { adminClient, freezeOf, tokenFrom } from './rollout-admin.js';
import { freezeCommand } from './rollout-freeze.js';
import { describeFreezeView, describeOutcome, describeRollout } from './rollout-output.js';
import {
  actorOf,
  auditPathOf,
  OPTIONS,
  refuseOptions,
  STEP_EXIT,
  UsageError,
  type RolloutContext,
  type Values,
} from './rollout-options.js';
import { waitForDelivery } from './rollout-wait.js';

const USAGE = `usage: rampflag rollout <command> [<flag>] [--plan <plan.yaml>] (--flags <flags.json> | --admin <url>) [options]
with a plan (--plan, and --flags or --admin):
  start      check the plan against the flag and write its first step
  step       make one decision and carry it out, then exit (for CI and cron; see exit codes)
  run        decide every checkEvery until the rollout completes or rolls back
  status     where the rollout stands, and the incident freeze
  pause | resume | rollback | kill    by hand; rollback and kill serve the safe variant, idempotently
  audit      print the audit log; --verify checks its hash chain and the flag's rollout.audit
  simulate   run the plan's real decisions on synthetic traffic: A/A false rollbacks, detection of
             a regression, users exposed, against the naive "rate > 1 % → roll back" rule
by the flag's name, through a server (--admin <url>, no plan; the server acts and audits):
  kill <flag> | rollback <flag>   serve the safe variant to everyone (--safe-variant, else the
                                  flag's rollout.safeVariant); idempotent
  pause <flag> | resume <flag>    hold its rollout where it is, or let it go on
  status [<flag>]                 the flag's rollout, what it serves, and the freeze (--admin or --flags)
incident freeze (--admin <url>, or --flags <file> to write the file's flag-set metadata itself):
  freeze --reason <incident> [--for 2h | --until <ISO time>]   no rollout advances until it ends;
             rollbacks and kills still happen
  unfreeze [--reason <text>]
options:
  --plan <file>          the rollout plan (YAML or JSON)
  --flags <file>         the flag file that is the source of truth
  --admin <url>          or a rampflag server's management API, e.g. http://localhost:8014; the token
                         comes from $RAMPFLAG_TOKEN (else $RAMPFLAG_ADMIN_TOKEN), never from argv
  --source <name>        with --admin: the server's source to read and write
  --audit <file>         the audit log (default rampflag-audit.jsonl beside the --flags file, where
                         rampflag serve writes it; else in the working directory)
  --prometheus <url>     where metrics are read (default: the plan's metrics.prometheus)
  --actor <name>         who acts, for the audit log (default $USER@rampflag); with --admin and no
                         plan the server records the token's name
  --reason <text>        why, for pause, resume, rollback, kill, freeze and unfreeze
  --safe-variant <v>     with kill or rollback of a named flag: the variant to serve
  --wait                 after kill, rollback, pause or resume with --admin: wait until every sync
                         stream was sent the change (sent: written to the stream, not applied)
  --timeout <duration>   how long --wait waits (default 30s)
  --for <duration>       with freeze: it ends by itself after this long (e.g. 2h)
  --until <ISO time>     with freeze: it ends by itself then
  --verify               with audit: check the chain
  --runs <n>             with simulate: rollouts per scenario (default 1000)
  --regression <x>       with simulate: the treatment's error-rate multiplier (default 2)
  --seed <n>             with simulate: the seed (default 1)
  --json                 print JSON
exit codes of step (and of run, for how it ended):
  0 advanced   10 held   11 completed   12 rolled back (or killed)   1 error   2 bad usage or plan
exit codes of --wait:
  0 every sync stream was sent the change   13 not every stream was sent the change in time`;

export { STEP_EXIT };

/** The commands that act on a flag by its name, through a server, when there is no plan. */
const BY_NAME = new Set<string>(['kill', 'rollback', 'pause', 'resume']);

function writerOf(values: Values, env: NodeJS.ProcessEnv): FlagWriter {
  if ((values.flags === undefined) === (values.admin === undefined))
    throw new UsageError('give --flags <file> or --admin <url>');
  if (values.flags !== undefined) return fileWriter(values.flags);
  const token = tokenFrom(env);
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
  const ctx: RolloutContext = { command, values, env, io, print };
  try {
    const [, flag, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
    if (command === 'audit') return await audit(values, print);
    if (command === 'freeze' || command === 'unfreeze') {
      if (flag !== undefined)
        throw new UsageError(`${command} acts on every rollout: name no flag`);
      return await freezeCommand(ctx, command);
    }
    if (values.plan === undefined && BY_NAME.has(command)) {
      if (flag === undefined)
        throw new UsageError(
          `${command} needs the flag's name (with --admin <url>) or --plan <file>`,
        );
      return await flagActionByName(ctx, command as ByNameAction, flag);
    }
    if (values.plan === undefined && command === 'status') return await statusByName(ctx, flag);
    const plan = planOf(values);
    if (flag !== undefined && flag !== plan.flag)
      throw new UsageError(`the plan is for flag "${plan.flag}", not "${flag}"`);
    if (command === 'simulate') return simulate(plan, values, print);
    return await withPlan(ctx, plan, command);
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

/** The commands that drive a rollout by its plan, through a {@link RolloutController}. */
async function withPlan(ctx: RolloutContext, plan: RolloutPlan, command: string): Promise<number> {
  const { values, env, io, print } = ctx;
  refuseOptions(
    values,
    ['safe-variant'],
    'is for a flag named without --plan (the plan names the control)',
  );
  refuseOptions(values, ['for', 'until'], 'is for freeze');
  if (values.wait === true && (values.admin === undefined || !BY_NAME.has(command)))
    throw new UsageError('--wait is for kill, rollback, pause and resume with --admin <url>');
  const timeoutMs = waitTimeoutOf(ctx);
  const writer = writerOf(values, env);
  const actor = actorOf(values, env);
  const controller = new RolloutController({
    plan,
    writer,
    reader: readerOf(plan, values),
    audit: new AuditLog(auditPathOf(values)),
    ...(actor === undefined ? {} : { actor }),
  });
  const reason = values.reason;
  const show = (outcome: RolloutOutcome) =>
    print(describeOutcome(plan, outcome, Date.now()), outcome);
  switch (command) {
    case 'status': {
      const { rollout: state } = await controller.status();
      const freeze = await freezeNow(ctx, writer);
      print(`${describeRollout(plan, state)}\n${describeFreezeView(freeze)}`, {
        rollout: state ?? null,
        freeze,
      });
      return 0;
    }
    case 'start':
    case 'step':
    case 'pause':
    case 'resume':
    case 'rollback':
    case 'kill': {
      const started = performance.now();
      const outcome = await (command === 'start'
        ? controller.start()
        : command === 'step'
          ? controller.step()
          : controller[command](...(reason === undefined ? [] : [reason])));
      if (values.wait !== true || values.json !== true) show(outcome);
      if (values.wait === true) {
        const admin = adminClient(values.admin as string, tokenFrom(env));
        const wait = await waitForDelivery(ctx, admin, undefined, { started, timeoutMs });
        if (values.json === true) io.stdout(JSON.stringify({ ...outcome, wait }));
        if (!wait.complete) return STEP_EXIT.notSent;
      }
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
}

/** The incident freeze: the server's (`GET /admin/freeze`) or the flag file's. */
async function freezeNow(ctx: RolloutContext, writer: FlagWriter): Promise<FreezeView> {
  if (ctx.values.admin !== undefined)
    return freezeOf(
      await adminClient(ctx.values.admin, tokenFrom(ctx.env)).request('GET', '/admin/freeze', {
        role: 'read',
      }),
    );
  return freezeView(JSON.parse((await writer.read()).configuration), Date.now());
}

async function audit(
  values: Values,
  print: (human: string, json: unknown) => void,
): Promise<number> {
  const log = new AuditLog(auditPathOf(values));
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
            ? `the audit log ${auditPathOf(values)} is empty or missing, but the flag records head ${head}: pass the log the rollout wrote with --audit`
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
